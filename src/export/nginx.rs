//! `nginx-webN.conf`: the Nginx site on each web server, in front of its application server.

use super::{app_address, header, web_address};
use crate::scenario::{Distribution, Scenario};
use crate::sim::design::apps_apart;
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
    if crate::sim::design::web_has_firewall(s, index) {
        out.push_str("# A firewall on this machine lets only the balancers reach port 80 here.\n");
    } else {
        out.push_str("# No firewall on this machine: anyone on the internet can reach this port.\n");
    }
    let flags = apps_apart(s);
    let apart: Vec<usize> = (0..flags.len()).filter(|&j| flags[j]).collect();
    if flags[index] {
        out.push_str("\n# The application tier on machines of its own, Nginx's defaults written out: one failed\n");
        out.push_str("# try takes a server out for 10 s; a failed GET goes on to the next server.\n");
        let _ = writeln!(out, "upstream app_{id} {{");
        for j in apart {
            let _ = writeln!(out, "    server {}:8000 max_fails=1 fail_timeout=10s;", app_address(j));
        }
        out.push_str("}\n");
    } else {
        let _ = writeln!(
            out,
            "\n# The application beside Nginx on this machine.\nupstream app_{id} {{\n    server 127.0.0.1:8000;\n}}"
        );
    }
    if !s.balancer.enabled {
        out.push_str("# No balancer: DNS points www.foobar.com at this server, and clients connect here.\n");
    }
    let _ = writeln!(out, "\nserver {{");
    let _ = writeln!(out, "    # Connections waiting beyond the listen backlog are refused.");
    let _ = writeln!(out, "    listen {}:80 backlog={};", web_address(index), w.backlog.max(1));
    if w.backlog == 0 {
        out.push_str("    # The model's backlog 0 refuses every waiting connection; the kernel needs at least 1.\n");
    }
    let _ = writeln!(out, "    server_name www.foobar.com;");
    if s.web.static_ratio > 0.0 {
        let _ = writeln!(
            out,
            "    # Static files, answered by Nginx itself: the model's {} % of reads.",
            super::trim_number(s.web.static_ratio * 100.0)
        );
        out.push_str("    location /static/ {\n        root /var/www/foobar;\n    }\n");
    }
    let _ = writeln!(out, "    location / {{\n        proxy_pass http://app_{id};\n    }}\n}}");
    out
}
