//! `nginx-webN.conf`: the Nginx site on each web server, in front of its application server.

use super::{header, web_address};
use crate::scenario::{Distribution, Scenario};
use std::fmt::Write;

/// The site of web server `index` (0-based), to include inside Nginx's `http { }` block.
pub fn render(s: &Scenario, index: usize) -> String {
    let w = &s.web.servers[index];
    let id = Scenario::web_id(index);
    let mut out = header("#", &format!("nginx-{id}.conf: the Nginx site on {id} (include it inside http {{ }})"), s);
    let _ = writeln!(
        out,
        "# The application behind Nginx works on {} requests at once (e.g. gunicorn --workers {});",
        w.workers, w.workers
    );
    let shape = match w.service_distribution {
        Distribution::Exponential => "exponential".to_string(),
        Distribution::Constant => "constant".to_string(),
        Distribution::Lognormal => format!("log-normal, cv {}", w.service_time_cv),
    };
    let _ = writeln!(out, "# the model gives each request {} ms of application time ({shape}).", w.service_time_ms);
    if s.security.firewall {
        out.push_str("# A firewall lets only the balancers reach port 80 here (the model's firewall=true).\n");
    } else {
        out.push_str("# No firewall: anyone on the internet can reach this port (the model's firewall=false).\n");
    }
    let _ = writeln!(out, "\nupstream app_{id} {{\n    server 127.0.0.1:8000;\n}}");
    let _ = writeln!(out, "\nserver {{");
    let _ = writeln!(out, "    # Connections waiting beyond the listen backlog are refused.");
    let _ = writeln!(out, "    listen {}:80 backlog={};", web_address(index), w.backlog.max(1));
    if w.backlog == 0 {
        out.push_str("    # The model's backlog 0 refuses every waiting connection; the kernel needs at least 1.\n");
    }
    let _ = writeln!(out, "    server_name www.foobar.com;");
    let _ = writeln!(out, "    location / {{\n        proxy_pass http://app_{id};\n    }}\n}}");
    out
}
