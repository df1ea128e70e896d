#!/usr/bin/env python3
"""Trunk post_build hook: move Trunk's inline WebAssembly bootstrap into its own file.

Trunk replaces <link data-trunk rel="rust"> with an inline <script type="module">. The page's
Content-Security-Policy allows scripts from its own origin only (script-src 'self'), which
blocks inline scripts, so this hook writes the bootstrap to boot-<hash>.js next to it and
points a <script src> at that file. The policy then holds for every script on the page.
"""
import hashlib
import os
import re
import sys

staging = os.environ.get("TRUNK_STAGING_DIR")
if not staging:
    sys.exit("externalize-bootstrap: TRUNK_STAGING_DIR is not set (run it as a Trunk hook)")
page = os.path.join(staging, "index.html")
with open(page, encoding="utf-8") as f:
    html = f.read()

pattern = re.compile(r'<script type="module"(?P<attrs>[^>]*)>(?P<body>.*?import init.*?)</script>', re.S)
match = pattern.search(html)
if not match:
    sys.exit("externalize-bootstrap: no inline bootstrap script found in index.html")
body = match.group("body").strip() + "\n"
# If the WebAssembly cannot be fetched or compiled (a dropped connection, an old browser), say
# so in the loading line of index.html instead of leaving "Loading the simulator…" for ever.
# Static imports must stay at the top level of a module, so only the rest goes in the try.
lines = body.splitlines()
imports = [line for line in lines if line.startswith("import ")]
rest = [line for line in lines if line.strip() and not line.startswith("import ")]
body = "\n".join(
    imports
    + ["try {"]
    + ["  " + line for line in rest]
    + [
        "} catch (error) {",
        "  const status = document.querySelector('.boot-status');",
        "  if (status) {",
        "    status.textContent = 'The simulator could not start (' + error + '). Reload the page; it needs a '",
        "      + 'browser with WebAssembly.';",
        "    status.classList.add('boot-failed');",
        "  }",
        "  throw error;",
        "}",
    ]
) + "\n"
name = "boot-%s.js" % hashlib.sha256(body.encode()).hexdigest()[:16]
with open(os.path.join(staging, name), "w", encoding="utf-8") as f:
    f.write(body)
html = html[: match.start()] + '<script type="module" src="/%s"></script>' % name + html[match.end() :]
if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html):
    sys.exit("externalize-bootstrap: an inline script is left in index.html")
with open(page, "w", encoding="utf-8") as f:
    f.write(html)
print("externalize-bootstrap: wrote", name)
