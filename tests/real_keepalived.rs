//! The model's VRRP pair against a real keepalived (issue 19): the exported
//! `keepalived-lb1.conf` / `-lb2.conf` run in two network namespaces joined by a veth pair, with
//! unicast adverts and a notify script that writes a timestamp at every state change. Cases: a
//! crashed master (SIGKILL), a graceful stop (SIGTERM: priority-0 advert), preemption when the
//! higher priority returns, with and without `preempt_delay`, and a cut of VRRP packets (an nft
//! rule in lb1's namespace) then its heal; keepalived alone SIGKILLed (the floating IP in both
//! namespaces: a duplicate address) and keepalived tracking HAProxy (`vrrp.track_haproxy`). Each figure is compared with the model started in
//! the same phase (lb1 master at the moment the real lb1 became master) within 50 ms.
//!
//! Needs root, `ip netns` and Debian's keepalived; the cut also needs nft (`bash
//! scripts/ensure-tools.sh` installs them). Without namespaces or nft the test says so on the
//! terminal and skips that part; a missing keepalived fails. Namespaces, addresses and every
//! process are removed when a lab ends, pass or fail (Drop guards). The four labs run in parallel,
//! each in under 40 s.
#![cfg(not(target_arch = "wasm32"))]

use infrasim::export::{config_files, VIRTUAL_IP};
use infrasim::scenario::{preset, Scenario};
use infrasim::sim::node::Link;
use infrasim::sim::time::{from_s, to_s};
use infrasim::sim::trace::{NodeEvent, Subject};
use infrasim::sim::{Command, CommandKind, NodeId, Sim, TraceConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Allowed gap between the model and the real keepalived, seconds. The real figures carry the
/// notify script's fork and exec and keepalived's start (about 20–30 ms measured here).
const TOLERANCE_S: f64 = 0.050;
/// The preempt_delay case spans six adverts of the real master, each re-armed from the moment
/// keepalived's timer thread ran, so a little over 1 s apart; on this 2-core machine shared
/// with builds, the gap reached 49 ms in 4 runs where the other cases stay under 35 ms.
const DELAY_TOLERANCE_S: f64 = 0.080;
/// Longest wait for one state change before the test fails.
const WAIT_LIMIT: Duration = Duration::from_secs(12);

/// Print past the test harness's capture: a skip must be seen.
fn loud(text: &str) {
    let _ = writeln!(std::io::stderr(), "real_keepalived: {text}");
}

fn now_s() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

fn program(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let candidate = Path::new(dir).join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("'{name}' is not installed: run `bash scripts/ensure-tools.sh`");
}

fn sh(args: &[&str]) -> Result<(), String> {
    let out =
        Process::new(args[0]).args(&args[1..]).stdin(Stdio::null()).output().map_err(|e| format!("{args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Two namespaces joined by a veth pair, a private directory, and the keepalived processes.
struct Lab {
    ns: [String; 2],
    dev: [String; 2],
    addr: [String; 2],
    dir: PathBuf,
    procs: [Option<Child>; 2],
    /// The stand-in for HAProxy each keepalived's exported check looks for, when tracked.
    tracked: [Option<String>; 2],
}

impl Lab {
    /// `tag` keeps parallel labs apart (names, addresses, directory).
    fn new(tag: u8) -> Result<Lab, String> {
        let id = format!("{}{tag}", std::process::id() % 100_000);
        let dir = std::env::temp_dir().join(format!("infrasim-keepalived-{id}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let lab = Lab {
            ns: [format!("isk{id}a"), format!("isk{id}b")],
            dev: [format!("isk{id}a"), format!("isk{id}b")],
            addr: [format!("10.231.{tag}.1"), format!("10.231.{tag}.2")],
            dir,
            procs: [None, None],
            tracked: [None, None],
        };
        for ns in &lab.ns {
            sh(&["ip", "netns", "add", ns])?;
        }
        let ip = |args: &[&str]| sh(&[&["ip"], args].concat());
        ip(&[
            "link",
            "add",
            &lab.dev[0],
            "netns",
            &lab.ns[0],
            "type",
            "veth",
            "peer",
            "name",
            &lab.dev[1],
            "netns",
            &lab.ns[1],
        ])?;
        for k in 0..2 {
            let (ns, dev) = (&lab.ns[k], &lab.dev[k]);
            ip(&["-n", ns, "addr", "add", &format!("{}/24", lab.addr[k]), "dev", dev])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "link", "set", dev, "up"])?;
        }
        Ok(lab)
    }

    fn events(&self) -> PathBuf {
        self.dir.join("events")
    }

    /// The exported file, run on this lab's veth with unicast adverts and the notify script.
    fn write_config(&self, s: &Scenario, k: usize) -> PathBuf {
        let files = config_files(s);
        let name = format!("keepalived-lb{}.conf", k + 1);
        let exported = &files.iter().find(|(n, _)| *n == name).expect("the keepalived export").1;
        let script = self.dir.join(format!("notify-lb{}.sh", k + 1));
        let body = format!("#!/bin/sh\nt=$(date +%s.%N)\necho \"lb{} $3 $t\" >> {}\n", k + 1, self.events().display());
        std::fs::write(&script, body).unwrap();
        sh(&["chmod", "755", script.to_str().unwrap()]).unwrap();
        let unicast = format!(
            "    interface {}\n    unicast_src_ip {}\n    unicast_peer {{\n        {}\n    }}\n    notify \"{}\"\n",
            self.dev[k],
            self.addr[k],
            self.addr[1 - k],
            script.display()
        );
        assert!(exported.contains("    interface eth0\n") && exported.contains("router_id"), "{exported}");
        let conf = exported.replace("    interface eth0\n", &unicast).replacen(
            "    router_id",
            "    script_user root\n    router_id",
            1,
        );
        // The exported check looks for any process called haproxy; here each balancer looks for
        // its own stand-in (the namespaces share the process table). Script security is off as
        // the notify script lives in a temporary directory.
        let conf = match &self.tracked[k] {
            Some(process) => conf
                .replace("killall -0 haproxy\"", &format!("killall -0 {process}\""))
                .replace("    enable_script_security\n", ""),
            None => conf,
        };
        let path = self.dir.join(&name);
        std::fs::write(&path, conf).unwrap();
        path
    }

    /// Start keepalived for lb`k+1` in its namespace (no respawn: a killed child stays dead).
    fn start(&mut self, s: &Scenario, k: usize) -> f64 {
        let conf = self.write_config(s, k);
        let pid = self.dir.join(format!("lb{}.pid", k + 1));
        let vrrp_pid = self.dir.join(format!("lb{}-vrrp.pid", k + 1));
        let _ = std::fs::remove_file(&pid);
        let _ = std::fs::remove_file(&vrrp_pid);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("lb{}.log", k + 1)))
            .unwrap();
        let at = now_s();
        let child = Process::new("ip")
            .args(["netns", "exec", &self.ns[k]])
            .arg(program("keepalived"))
            .args(["-n", "-l", "-D", "-R", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(&pid)
            .arg("-r")
            .arg(&vrrp_pid)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start keepalived");
        self.procs[k] = Some(child);
        at
    }

    /// Start lb`k+1` again; the moment it entered BACKUP, when its master-down timer starts
    /// (keepalived's init notifies then). Its start-up, 20–100 ms here, is not the model's.
    fn returned(&mut self, s: &Scenario, k: usize) -> f64 {
        let spawned = self.start(s, k);
        self.wait_for(k, "BACKUP", spawned)
    }

    /// SIGKILL the VRRP child first (no priority-0 advert), then the parent.
    fn crash(&mut self, k: usize) -> f64 {
        let file = self.dir.join(format!("lb{}-vrrp.pid", k + 1));
        let vrrp: u32 =
            std::fs::read_to_string(&file).ok().and_then(|t| t.trim().parse().ok()).expect("keepalived's VRRP pid");
        let at = now_s();
        sh(&["kill", "-KILL", &vrrp.to_string()]).unwrap();
        if let Some(mut parent) = self.procs[k].take() {
            let _ = parent.kill();
            let _ = parent.wait();
        }
        at
    }

    /// SIGTERM: keepalived's graceful stop.
    fn stop(&mut self, k: usize) -> f64 {
        let parent = self.procs[k].take().expect("a running keepalived");
        let at = now_s();
        sh(&["kill", "-TERM", &parent.id().to_string()]).unwrap();
        self.reap(parent);
        at
    }

    fn reap(&self, mut child: Child) {
        let limit = Instant::now() + Duration::from_secs(5);
        while Instant::now() < limit {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Drop VRRP (IP protocol 112) both ways in lb1's namespace; an error without nft.
    fn cut(&mut self) -> Result<f64, String> {
        let ns = self.ns[0].clone();
        let script = "add table inet infrasim_cut\n\
             add chain inet infrasim_cut input { type filter hook input priority 0; }\n\
             add chain inet infrasim_cut output { type filter hook output priority 0; }\n\
             add rule inet infrasim_cut input meta l4proto 112 drop\n\
             add rule inet infrasim_cut output meta l4proto 112 drop\n";
        let file = self.dir.join("cut.nft");
        std::fs::write(&file, script).unwrap();
        let at = now_s();
        sh(&["ip", "netns", "exec", &ns, "nft", "-f", file.to_str().unwrap()])?;
        Ok(at)
    }

    fn heal(&mut self) -> f64 {
        let at = now_s();
        sh(&["ip", "netns", "exec", &self.ns[0], "nft", "delete", "table", "inet", "infrasim_cut"]).unwrap();
        at
    }

    /// The first time lb`k+1` entered `state` at or after `after` (wall seconds).
    fn wait_for(&self, k: usize, state: &str, after: f64) -> f64 {
        let who = format!("lb{}", k + 1);
        let limit = Instant::now() + WAIT_LIMIT;
        loop {
            let text = std::fs::read_to_string(self.events()).unwrap_or_default();
            let hit = text.lines().filter_map(|l| {
                let mut f = l.split_whitespace();
                let (n, st, t) = (f.next()?, f.next()?, f.next()?.parse::<f64>().ok()?);
                (n == who && st == state && t >= after).then_some(t)
            });
            if let Some(t) = hit.min_by(f64::total_cmp) {
                return t;
            }
            if Instant::now() > limit {
                panic!("{who} never became {state}; events:\n{text}\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the floating IP is configured in lb`k+1`'s namespace (`ip addr`).
    fn has_vip(&self, k: usize) -> bool {
        let out = Process::new("ip")
            .args(["-n", &self.ns[k], "-o", "addr", "show", "dev", &self.dev[k]])
            .output()
            .expect("ip addr");
        String::from_utf8_lossy(&out.stdout).contains(&format!(" {VIRTUAL_IP}/"))
    }

    /// The first moment (wall seconds) lb`k+1`'s namespace has the floating IP (`want`) or
    /// has it no more, polled every 10 ms for at most `WAIT_LIMIT`.
    fn wait_vip(&self, k: usize, want: bool) -> f64 {
        let limit = Instant::now() + WAIT_LIMIT;
        while self.has_vip(k) != want {
            if Instant::now() > limit {
                panic!(
                    "lb{}: the floating IP never {}
{}",
                    k + 1,
                    if want { "appeared" } else { "left" },
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        now_s()
    }

    fn logs(&self) -> String {
        (1..=2)
            .map(|k| {
                let t = std::fs::read_to_string(self.dir.join(format!("lb{k}.log"))).unwrap_or_default();
                let tail: Vec<&str> = t.lines().rev().take(15).collect();
                format!("lb{k} log (last lines):\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Sleep until wall time `t`.
    fn until(t: f64) {
        let wait = t - now_s();
        if wait > 0.0 {
            std::thread::sleep(Duration::from_secs_f64(wait));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for k in 0..2 {
            if let Some(mut c) = self.procs[k].take() {
                let _ = c.kill();
                let _ = c.wait();
            }
            if let Ok(t) = std::fs::read_to_string(self.dir.join(format!("lb{}-vrrp.pid", k + 1))) {
                let _ = sh(&["kill", "-KILL", t.trim()]);
            }
        }
        for ns in &self.ns {
            let _ = sh(&["ip", "netns", "del", ns]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A lab, or the reason there cannot be one here (printed, and the test returns).
fn lab_or_skip(tag: u8) -> Option<Lab> {
    program("keepalived");
    match Lab::new(tag) {
        Ok(lab) => Some(lab),
        Err(e) => {
            loud(&format!(
                "SKIPPED: network namespaces are not available here ({e}); the model was not compared with keepalived"
            ));
            None
        }
    }
}

/// The pair as exported: 101/100, 1 s adverts, VRRP v2 (keepalived's defaults).
fn scenario(preempt_delay_s: f64) -> Scenario {
    let mut s = preset("high-availability").unwrap();
    s.vrrp.preempt_delay_s = preempt_delay_s;
    s
}

/// The model from the moment lb1 became master (`origin`, wall seconds), with `commands` at
/// wall times; when `lb` went through `event` after `after` (wall seconds).
fn model(s: &Scenario, origin: f64, commands: &[(f64, CommandKind)], horizon: f64) -> Sim {
    let mut m = Sim::new(s.clone(), TraceConfig { enabled: false, capacity: 1 });
    for (t, what) in commands {
        m.apply(Command { at_us: from_s(t - origin), what: what.clone() }).unwrap();
    }
    m.run_until(from_s(horizon - origin), u64::MAX);
    m.check_invariants().unwrap();
    m
}

fn model_when(m: &Sim, origin: f64, lb: u8, event: NodeEvent, after: f64) -> f64 {
    m.timeline
        .iter()
        .filter(|e| e.subject == Subject::Node(NodeId::Lb(lb)) && e.event == event)
        .map(|e| origin + to_s(e.at))
        .find(|&t| t >= after - 1e-6)
        .unwrap_or_else(|| panic!("the model never had lb{} {event:?} after {after}", lb + 1))
}

fn compare(case: &str, real_s: f64, model_s: f64, tolerance_s: f64) {
    loud(&format!("{case}: real {real_s:.3} s, model {model_s:.3} s"));
    assert!(
        (real_s - model_s).abs() <= tolerance_s,
        "{case}: real {real_s:.3} s, model {model_s:.3} s (allowed {tolerance_s} s)"
    );
}

/// The next time after `t` that is `origin` plus a whole number of seconds, plus `offset`.
fn phase(origin: f64, t: f64, offset: f64) -> f64 {
    origin + (t - origin).ceil() + offset
}

const LB1: NodeId = NodeId::Lb(0);

/// Crash, preemption on return, graceful stop, then a VRRP cut and its heal.
#[test]
fn keepalived_takeover_preemption_stop_and_split_brain_match_the_model() {
    let Some(mut lab) = lab_or_skip(1) else { return };
    let s = scenario(0.0);
    let t0 = now_s();
    // lb1 first: both start BACKUP and lb1's shorter timer (skew 155/256 s) must run out first.
    lab.start(&s, 0);
    lab.start(&s, 1);
    let m1 = lab.wait_for(0, "MASTER", t0);

    // 1. Crash lb1 half-way between adverts; then restart it half-way between lb2's adverts.
    Lab::until(phase(m1, now_s() + 1.0, 0.5));
    let crashed = lab.crash(0);
    let took = lab.wait_for(1, "MASTER", crashed);
    Lab::until(phase(took, now_s() + 1.0, 0.5));
    let back = lab.returned(&s, 0);
    let retook = lab.wait_for(0, "MASTER", back);
    let m = model(
        &s,
        m1,
        &[(crashed, CommandKind::Kill { node: LB1 }), (back, CommandKind::Restore { node: LB1 })],
        retook + 2.0,
    );
    compare(
        "crash: takeover",
        took - crashed,
        model_when(&m, m1, 1, NodeEvent::BecameMaster, crashed) - crashed,
        TOLERANCE_S,
    );
    compare(
        "preemption on return",
        retook - back,
        model_when(&m, m1, 0, NodeEvent::BecameMaster, back) - back,
        TOLERANCE_S,
    );

    // 2. Graceful stop of the master (SIGTERM): lb2 takes over after its skew.
    Lab::until(phase(retook, now_s() + 1.0, 0.5));
    let stopped = lab.stop(0);
    let took = lab.wait_for(1, "MASTER", stopped);
    let m = model(&s, retook, &[(stopped, CommandKind::Stop { node: LB1 })], took + 2.0);
    compare(
        "graceful stop: takeover",
        took - stopped,
        model_when(&m, retook, 1, NodeEvent::BecameMaster, stopped) - stopped,
        TOLERANCE_S,
    );

    // 3. VRRP packets cut in lb1's namespace, then healed (needs nft).
    Lab::until(phase(took, now_s() + 1.0, 0.5));
    let back = lab.start(&s, 0);
    let m3 = lab.wait_for(0, "MASTER", back);
    Lab::until(phase(m3, now_s() + 1.0, 0.5));
    let cut = match lab.cut() {
        Ok(t) => t,
        Err(e) => {
            loud(&format!("SKIPPED the VRRP cut: nft is not available here ({e})"));
            return;
        }
    };
    let split = lab.wait_for(1, "MASTER", cut);
    // Heal 0.3 s after one of lb1's adverts, away from both balancers' advert times.
    Lab::until(phase(m3, split + 2.0, 0.3));
    let healed = lab.heal();
    let over = lab.wait_for(1, "BACKUP", healed);
    let link = Link::new(NodeId::Lb(0), NodeId::Lb(1));
    let m = model(&s, m3, &[(cut, CommandKind::Cut { link }), (healed, CommandKind::Heal { link })], over + 2.0);
    let model_split = model_when(&m, m3, 1, NodeEvent::BecameMaster, cut);
    compare("VRRP cut: backup becomes master", split - cut, model_split - cut, TOLERANCE_S);
    let model_over = model_when(&m, m3, 1, NodeEvent::BecameBackup, healed);
    // lb2's adverts keep the phase of its takeover: the model's end is moved by the takeover's
    // own gap so that the first advert after the heal is the same one in both.
    let inherited = (split - cut) - (model_split - cut);
    compare("heal: split brain ends", over - healed, model_over - healed + inherited, TOLERANCE_S);
    compare("split brain length", over - split, model_over - model_split, TOLERANCE_S);
}

/// preempt_delay: a returning lb1 waits before taking the IP back. Not a whole number of
/// advert intervals: at 5 s the advert that ends the delay arrives at the very moment it ends,
/// and real keepalived went either way (8.01 s or 9.07 s measured here).
#[test]
fn keepalived_preempt_delay_matches_the_model() {
    let Some(mut lab) = lab_or_skip(2) else { return };
    let s = scenario(4.5);
    let t0 = now_s();
    // Both start BACKUP; lb1 alone first, so it becomes master without lb2's adverts.
    lab.start(&s, 0);
    let m1 = lab.wait_for(0, "MASTER", t0);
    lab.start(&s, 1);
    Lab::until(phase(m1, now_s() + 1.0, 0.5));
    let crashed = lab.crash(0);
    let took = lab.wait_for(1, "MASTER", crashed);
    Lab::until(phase(took, now_s() + 1.0, 0.5));
    let back = lab.returned(&s, 0);
    let retook = lab.wait_for(0, "MASTER", back);
    // The model from lb2's mastership: lb2 master at `took`, lb1 down, returning at `back`.
    let mut m = Sim::new(s.clone(), TraceConfig { enabled: false, capacity: 1 });
    let cmd = |t: f64, what| Command { at_us: from_s(t), what };
    // In the model lb1 is master at 0: kill it so lb2 takes over, then shift times so lb2's
    // takeover lands on the real one.
    m.apply(cmd(0.5, CommandKind::Kill { node: LB1 })).unwrap();
    m.run_until(from_s(4.0), u64::MAX);
    let model_took = model_when(&m, 0.0, 1, NodeEvent::BecameMaster, 0.0);
    let shift = took - model_took;
    m.apply(cmd(back - shift, CommandKind::Restore { node: LB1 })).unwrap();
    m.run_until(from_s(retook - shift + 12.0), u64::MAX);
    m.check_invariants().unwrap();
    let model_retook = model_when(&m, shift, 0, NodeEvent::BecameMaster, back);
    compare("preempt_delay 4.5: IP taken back", retook - back, model_retook - back, DELAY_TOLERANCE_S);
}

/// keepalived alone SIGKILLed (part 5): its floating IP stays on lb1's interface, so once lb2
/// takes over both namespaces have it (a duplicate address); lb1's keepalived started again
/// removes it. The model's duplicate address starts at its takeover and ends at the restart.
#[test]
fn a_killed_keepalived_leaves_the_address_in_both_namespaces_until_it_starts_again() {
    let Some(mut lab) = lab_or_skip(3) else { return };
    let s = scenario(0.0);
    let t0 = now_s();
    lab.start(&s, 0);
    lab.start(&s, 1);
    let m1 = lab.wait_for(0, "MASTER", t0);
    lab.wait_vip(0, true);
    Lab::until(phase(m1, now_s() + 1.0, 0.5));
    let crashed = lab.crash(0);
    let took = lab.wait_for(1, "MASTER", crashed);
    lab.wait_vip(1, true);
    assert!(lab.has_vip(0), "SIGKILL: the floating IP stays on lb1 after lb2 took over\n{}", lab.logs());
    let spawned = lab.start(&s, 0);
    let removed = lab.wait_vip(0, false);
    let back = lab.wait_for(0, "BACKUP", spawned);
    assert!(lab.has_vip(1), "lb2 keeps the address");
    // keepalived removes the stale address while it starts, within a few ms of reporting
    // BACKUP (10 ms before to 8 ms after in runs here, polled every 10 ms); its start-up is not
    // the model's, which restarts it at `back`.
    assert!(
        removed <= back + TOLERANCE_S,
        "the stale address left {:.3} s after keepalived was BACKUP",
        removed - back
    );
    let m = model(
        &s,
        m1,
        &[(crashed, CommandKind::KillKeepalived { lb: 0 }), (back, CommandKind::RestoreKeepalived { lb: 0 })],
        back + 1.0,
    );
    compare(
        "keepalived SIGKILL: duplicate address starts",
        took - crashed,
        model_when(&m, m1, 0, NodeEvent::DuplicateAddressStart, crashed) - crashed,
        TOLERANCE_S,
    );
    loud(&format!(
        "keepalived restart: stale address gone {:.3} s after the spawn, BACKUP {:.3} s after",
        removed - spawned,
        back - spawned
    ));
}

/// A process standing in for HAProxy, named so that only its own keepalived's check finds it:
/// a copy of `sleep` (killed when dropped).
struct StandIn {
    path: PathBuf,
    child: Option<Child>,
}

impl StandIn {
    fn new(dir: &Path, name: &str) -> StandIn {
        let path = dir.join(name);
        std::fs::copy(program("sleep"), &path).expect("a copy of sleep");
        let mut s = StandIn { path, child: None };
        s.start();
        s
    }

    fn start(&mut self) -> f64 {
        let child = Process::new(&self.path).arg("600").stdin(Stdio::null()).spawn().expect("start the stand-in");
        self.child = Some(child);
        now_s()
    }

    fn kill(&mut self) -> f64 {
        let at = now_s();
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        at
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `vrrp.track_haproxy`: HAProxy (a stand-in) dies on the master, keepalived's next check puts
/// it in FAULT with a priority-0 advert, and lb2 takes over after its skew; HAProxy back, the
/// next check brings lb1 back as BACKUP and it preempts after its master-down interval. The
/// check's phase is keepalived's own, so the detection is bounded by one interval and the rest
/// compared from the FAULT and BACKUP moments.
#[test]
fn keepalived_tracking_haproxy_matches_the_model() {
    let Some(mut lab) = lab_or_skip(4) else { return };
    let s = preset("scale-up").unwrap();
    assert!(s.vrrp.track_haproxy);
    let names: Vec<String> = (0..2).map(|k| format!("hpx{}{k}", std::process::id() % 100_000)).collect();
    let mut haproxy: Vec<StandIn> = names.iter().map(|n| StandIn::new(&lab.dir, n)).collect();
    lab.tracked = [Some(names[0].clone()), Some(names[1].clone())];
    let t0 = now_s();
    lab.start(&s, 0);
    lab.start(&s, 1);
    let m1 = lab.wait_for(0, "MASTER", t0);
    Lab::until(phase(m1, now_s() + 1.0, 0.5));
    let died = haproxy[0].kill();
    let fault = lab.wait_for(0, "FAULT", died);
    let took = lab.wait_for(1, "MASTER", died);
    let interval_s = infrasim::sim::TRACK_INTERVAL_MS / 1_000.0;
    assert!(fault - died <= interval_s + TOLERANCE_S, "FAULT {:.3} s after HAProxy died", fault - died);
    Lab::until(phase(took, now_s() + 1.0, 0.5));
    let revived = haproxy[0].start();
    let back = lab.wait_for(0, "BACKUP", revived);
    let retook = lab.wait_for(0, "MASTER", revived);
    assert!(back - revived <= interval_s + TOLERANCE_S, "BACKUP {:.3} s after HAProxy returned", back - revived);
    let m = model(
        &s,
        m1,
        &[(died, CommandKind::Kill { node: LB1 }), (revived, CommandKind::Restore { node: LB1 })],
        retook + 2.0,
    );
    let model_fault = model_when(&m, m1, 0, NodeEvent::TrackFault, died);
    let model_back = model_when(&m, m1, 0, NodeEvent::TrackPassed, revived);
    compare(
        "track_haproxy: FAULT to lb2 master (skew)",
        took - fault,
        model_when(&m, m1, 1, NodeEvent::BecameMaster, died) - model_fault,
        TOLERANCE_S,
    );
    compare(
        "track_haproxy: BACKUP to lb1 master again",
        retook - back,
        model_when(&m, m1, 0, NodeEvent::BecameMaster, revived) - model_back,
        TOLERANCE_S,
    );
    loud(&format!(
        "track_haproxy: detected {:.3} s after HAProxy died (model {:.3} s), back {:.3} s after it returned (model {:.3} s)",
        fault - died,
        model_fault - died,
        back - revived,
        model_back - revived
    ));
}
