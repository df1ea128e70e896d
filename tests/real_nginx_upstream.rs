//! Real Nginx against `sim::upstream`: the same requests, the same backend deaths, and the same
//! answer (which backend, or 502) request by request.
//!
//! One Nginx (one worker, as the model) on 127.0.0.1 proxies to an upstream of two backends that
//! are threads of this test; "killing" a backend closes its port, so Nginx's connections are
//! refused (an `error` of `proxy_next_upstream`). `fail_timeout=2s` instead of the default 10 s
//! keeps the test to a few seconds; the rules are the same. Nginx counts `fail_timeout` in whole
//! seconds of Unix time, so the model is fed Unix time too, and no request is sent within 150 ms
//! of a second boundary (where the two clocks could see different seconds).
//! Needs Debian's nginx (`bash scripts/ensure-tools.sh`); without it the test says SKIPPED loudly.
#![cfg(not(target_arch = "wasm32"))]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use infrasim::sim::upstream::{Failure, PeerConfig, Upstream};
use infrasim::sim::SimTime;

const FAIL_TIMEOUT_S: u32 = 2;

fn nginx_program() -> Option<PathBuf> {
    let path_dirs = std::env::var("PATH").unwrap_or_default();
    let dirs = ["/usr/sbin", "/usr/local/sbin", "/usr/bin"].into_iter().map(String::from);
    dirs.chain(path_dirs.split(':').map(String::from)).map(|d| Path::new(&d).join("nginx")).find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// A backend answering its own index as the body, until stopped (then its port is closed).
struct Backend {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Backend {
    fn start(port: u16, index: usize) -> Backend {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("backend port");
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => answer(stream, index),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(1)),
                    Err(_) => return,
                }
            }
        });
        Backend { stop, thread: Some(thread) }
    }

    /// Close the port: from now on connections are refused.
    fn kill(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.kill();
    }
}

fn answer(mut stream: TcpStream, index: usize) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let body = format!("backend{index}");
    let reply = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let _ = stream.write_all(reply.as_bytes());
}

/// The Nginx process, killed (it is our child) when the test ends, pass or fail.
struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_nginx(program: &Path, front: u16, backends: &[u16]) -> Nginx {
    let dir = std::env::temp_dir().join(format!("infrasim-real-nginx-upstream-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let d = dir.display();
    let servers: String =
        backends.iter().map(|p| format!("    server 127.0.0.1:{p} fail_timeout={FAIL_TIMEOUT_S}s;\n")).collect();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         upstream app {{\n{servers}  }}\n\
         server {{ listen 127.0.0.1:{front}; location / {{ proxy_pass http://app; }} }}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new(program)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let nginx = Nginx { child, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", front)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not listen on {front}: {}", error_log(&nginx));
        thread::sleep(Duration::from_millis(20));
    }
    nginx
}

fn error_log(nginx: &Nginx) -> String {
    std::fs::read_to_string(nginx.dir.join("error.log")).unwrap_or_default()
}

/// What a request got: the backend that answered, or the status of Nginx's own error page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Backend(usize),
    Status(u16),
}

fn request(front: u16) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", front)).expect("connect to nginx");
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(b"GET / HTTP/1.0\r\nHost: www.foobar.com\r\n\r\n").unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    let status: u16 = reply.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    match reply.rsplit_once("backend") {
        Some((_, index)) if status == 200 => Answer::Backend(index.trim().parse().expect("backend index")),
        _ => Answer::Status(status),
    }
}

fn unix_now_us() -> SimTime {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as SimTime
}

/// Wait until the clock is at least 150 ms away from the next second boundary and past `not_before_s`.
fn away_from_second_boundary(not_before_s: u64) -> SimTime {
    loop {
        let now = unix_now_us();
        let fraction_us = now % 1_000_000;
        if now / 1_000_000 >= not_before_s && (150_000..850_000).contains(&fraction_us) {
            return now;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The model's answer to one GET: picks, refusals passed to the next peer, 502 when none is left.
fn model_request(up: &mut Upstream, now: SimTime, alive: &[bool], refused_tries: &mut [usize]) -> Answer {
    let mut attempt = up.begin();
    loop {
        let Ok(peer) = up.pick(now, &mut attempt) else { return Answer::Status(502) };
        if alive[peer] {
            up.report(now, peer, true);
            return Answer::Backend(peer);
        }
        up.report(now, peer, false);
        refused_tries[peer] += 1;
        let refused = Failure::Error { request_sent: false };
        if !attempt.try_next(refused, true) {
            return Answer::Status(refused.status());
        }
    }
}

struct Run {
    front: u16,
    model: Upstream,
    alive: Vec<bool>,
    real: Vec<Answer>,
    modelled: Vec<Answer>,
    /// Tries the model sent to a dead backend, per backend (Nginx logs each as refused).
    refused_tries: Vec<usize>,
}

impl Run {
    /// `count` requests, each sent to Nginx and to the model at the same Unix time.
    fn requests(&mut self, count: usize, not_before_s: u64) {
        for _ in 0..count {
            let now = away_from_second_boundary(not_before_s);
            self.real.push(request(self.front));
            self.modelled.push(model_request(&mut self.model, now, &self.alive, &mut self.refused_tries));
        }
    }
}

/// The lines of Nginx's error log for a refused connection to the backend on `port`.
fn refused_connections(log: &str, port: u16) -> usize {
    let upstream = format!("upstream: \"http://127.0.0.1:{port}/");
    log.lines().filter(|l| l.contains("Connection refused") && l.contains(&upstream)).count()
}

#[test]
fn nginx_and_the_model_send_each_request_to_the_same_backend() {
    let Some(program) = nginx_program() else {
        eprintln!("SKIPPED real_nginx_upstream: nginx is not installed (bash scripts/ensure-tools.sh installs it)");
        println!("SKIPPED real_nginx_upstream: nginx is not installed");
        return;
    };
    let ports = [free_port(), free_port()];
    let mut backends: Vec<Backend> = ports.iter().enumerate().map(|(i, &p)| Backend::start(p, i)).collect();
    let front = free_port();
    let nginx = start_nginx(&program, front, &ports);
    let config = PeerConfig { fail_timeout_s: FAIL_TIMEOUT_S, ..PeerConfig::default() };
    let model = Upstream::new(&[config, config]).unwrap();
    let mut run = Run {
        front,
        model,
        alive: vec![true, true],
        real: Vec::new(),
        modelled: Vec::new(),
        refused_tries: vec![0, 0],
    };

    // Both up: round robin.
    run.requests(5, 0);
    // Backend 1 dies: its turn is refused and passed to backend 0, then it is skipped.
    backends[1].kill();
    run.alive[1] = false;
    run.requests(4, 0);
    // Backend 0 dies as well: refused, and no live upstream is left: 502.
    backends[0].kill();
    run.alive[0] = false;
    run.requests(2, 0);
    // Both come back: still 502 until fail_timeout has passed (no quick recovery).
    let back_s = unix_now_us() / 1_000_000;
    backends = ports.iter().enumerate().map(|(i, &p)| Backend::start(p, i)).collect();
    run.alive = vec![true, true];
    run.requests(2, 0);
    // After fail_timeout (in whole seconds): trial requests, then round robin again.
    run.requests(6, back_s + u64::from(FAIL_TIMEOUT_S) + 1);
    // Backend 1 dies again and stays dead: after fail_timeout it gets one trial request, which
    // is refused and passed to backend 0, and it is out for another fail_timeout.
    backends[1].kill();
    run.alive[1] = false;
    run.requests(3, 0);
    let failed_s = unix_now_us() / 1_000_000;
    run.requests(4, failed_s + u64::from(FAIL_TIMEOUT_S) + 1);

    println!("nginx: {:?}\nmodel: {:?}", run.real, run.modelled);
    let log = error_log(&nginx);
    assert_eq!(run.real, run.modelled, "nginx's error log:\n{log}");
    // Which backends Nginx tried and found dead (the trial requests do not show in the answers).
    let real_refused: Vec<usize> = ports.iter().map(|&port| refused_connections(&log, port)).collect();
    println!("refused tries per backend: nginx {real_refused:?}, model {:?}", run.refused_tries);
    assert_eq!(real_refused, run.refused_tries, "nginx's error log:\n{log}");
    assert!(run.real.contains(&Answer::Status(502)) && run.real.contains(&Answer::Backend(1)));
    drop(backends);
}
