// Load a page in headless Chromium, wait, save a screenshot; report console errors, uncaught
// page errors and failed network requests.
//
//   node scripts/screenshot.mjs URL OUT.png [WIDTHxHEIGHT] [waitMs]
//   node scripts/screenshot.mjs http://127.0.0.1:8080/ /tmp/shot.png 1280x800 1500
//
// Uses playwright-core from $INFRASIM_TOOLS (default ~/.cache/infrasim-tools; installed by
// scripts/ensure-tools.sh) with the system Chromium. It never downloads a browser.
// Exit codes: 0 screenshot written, 1 page could not be loaded, 2 bad arguments.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const [url, out, size = '1280x800', waitArg = '1500'] = process.argv.slice(2);
const sizeMatch = /^(\d+)x(\d+)$/.exec(size);
const waitMs = Number(waitArg);
if (!url || !out || !sizeMatch || !Number.isFinite(waitMs) || waitMs < 0) {
  console.error('usage: node scripts/screenshot.mjs URL OUT.png [WIDTHxHEIGHT] [waitMs]');
  process.exit(2);
}

const toolsDir = process.env.INFRASIM_TOOLS || join(homedir(), '.cache', 'infrasim-tools');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
let chromium;
try {
  ({ chromium } = createRequire(join(toolsDir, 'package.json'))('playwright-core'));
} catch (e) {
  console.error(`playwright-core not found in ${toolsDir}: run bash scripts/ensure-tools.sh`);
  process.exit(1);
}
if (!existsSync(chromiumPath)) {
  console.error(`${chromiumPath} not found: run bash scripts/ensure-tools.sh --browser`);
  process.exit(1);
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const problems = [];
try {
  const page = await browser.newPage({
    viewport: { width: Number(sizeMatch[1]), height: Number(sizeMatch[2]) },
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) =>
    problems.push(`request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText ?? 'unknown'})`),
  );
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });

  let response;
  try {
    response = await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  } catch (e) {
    console.error(`cannot load ${url}: ${e.message}`);
    process.exitCode = 1;
  }
  if (response !== undefined) {
    await page.waitForTimeout(waitMs);
    await page.screenshot({ path: out, fullPage: false });
    console.log(`screenshot ${out} (${size}, waited ${waitMs} ms, HTTP ${response?.status() ?? '?'}): ${await page.title()}`);
  }
} finally {
  await browser.close();
}
for (const p of problems) console.log(p);
console.log(problems.length ? `${problems.length} problem(s) reported` : 'no console errors, no failed requests');
