//! Nginx on each web server: its own CPU time, the static files it answers itself, and the
//! hand-off of dynamic requests to an application server: the one beside it on its machine,
//! or, when the design puts the application tier on machines of their own, one of that tier's
//! servers through an `upstream` group ([`Upstream`]: round robin, `max_fails=1`,
//! `fail_timeout=10s`, `proxy_next_upstream error timeout`).
//!
//! ```text
//!   balancer ─▶ web1 (Nginx: nginx_time_ms) ─┬─ static ─────────────────────────▶ reply
//!                                            ├─ local: app1's workers ─▶ database ─▶ reply
//!                                            └─ upstream: ─▶ app1 | app2 ─▶ database ─▶ web1 ─▶ reply
//! ```
//! HAProxy's `check` is a TCP connect to Nginx, so a dead application behind a live Nginx
//! stays UP on the balancer: its dynamic requests get Nginx's 502.

use super::{backlog_bound, Ev, ReqRef, Sim, Stage};
use crate::sim::metrics::FailCause;
use crate::sim::node::NodeId;
use crate::sim::time::from_ms;
use crate::sim::upstream::{Failure, Upstream};

/// Web server `i`'s way to its application: `None` in `Farm::routes` is the application
/// beside it; this is an upstream group over the application tier.
pub(crate) struct AppUpstream {
    pub(crate) group: Upstream,
    /// The application server of each peer, in the group's order.
    pub(crate) apps: Vec<u16>,
}

impl AppUpstream {
    fn peer_of(&self, app: u16) -> Option<usize> {
        self.apps.iter().position(|&a| a == app)
    }
}

impl Sim {
    /// Which application each web server talks to: its own when `appI` runs on `webI`'s
    /// machine, else an upstream over every application server that runs apart from its web
    /// server (`design::apps_apart`).
    pub(super) fn build_app_routes(&mut self) {
        let apart = crate::sim::design::apps_apart(&self.scenario);
        let remote: Vec<u16> = (0..apart.len()).filter(|&i| apart[i]).map(|i| i as u16).collect();
        self.farm.routes = (0..apart.len())
            .map(|i| {
                if !apart[i] {
                    return None;
                }
                let group = Upstream::with_defaults(remote.len()).ok()?;
                Some(AppUpstream { group, apps: remote.clone() })
            })
            .collect();
    }

    /// Nginx has accepted the request: its own CPU time first (if any), then the rest.
    pub(super) fn nginx_accepts(&mut self, r: ReqRef, i: usize) {
        self.requests.get_mut(r).app = i as u16;
        let mut ms = self.scenario.web.nginx_time_ms;
        if self.scenario.security.backend_tls && !self.balancers.direct {
            // Decrypting what the balancer re-encrypted.
            ms += self.scenario.security.backend_tls_cpu_ms;
        }
        if ms <= 0.0 {
            self.after_nginx(r);
            return;
        }
        let ms = ms * self.farm.servers[i].nginx_slow;
        let (now, web) = (self.kernel.now, NodeId::Web(i as u16));
        let q = self.requests.get_mut(r);
        q.stage = Stage::NginxWork;
        q.hop = (web, web);
        q.hop_start = now;
        self.run_work(web, from_ms(ms), Ev::NginxDone(r));
    }

    /// Nginx has read the request: a static file it answers; a dynamic request it passes on.
    pub(super) fn after_nginx(&mut self, r: ReqRef) {
        let i = self.requests.server_of(r);
        if self.requests.get(r).is_static {
            self.reply_from_nginx(r);
            return;
        }
        if !self.farm.app_is_local(i) {
            let attempt = self.farm.routes[i].as_ref().map(|u| u.group.begin()).unwrap_or_default();
            self.requests.get_mut(r).app_attempt = attempt;
            self.pass_upstream(r);
        } else if self.farm.servers[i].app_alive && !self.app_backlog_full(i) {
            self.admit_to_app(r, i);
        } else {
            // `proxy_pass` to the application beside it refused (down, or its listen backlog
            // filled while Nginx worked): one peer, so 502.
            self.nginx_error(r);
        }
    }

    /// Application server `j`'s workers are all busy and its listen backlog is full.
    pub(super) fn app_backlog_full(&self, j: usize) -> bool {
        let w = &self.farm.servers[j];
        w.busy >= w.spec.workers && w.waiting.len() as u32 >= backlog_bound(w.spec.backlog)
    }

    /// The request takes one of application server `j`'s workers, or waits for one.
    pub(super) fn admit_to_app(&mut self, r: ReqRef, j: usize) {
        if self.farm.servers[j].busy < self.farm.servers[j].spec.workers {
            self.start_app(r, j);
        } else {
            self.requests.get_mut(r).stage = Stage::WebWait;
            self.farm.servers[j].waiting.push_back(r);
        }
    }

    /// Nginx picks the next peer of its upstream for the request (502 when none is left).
    fn pass_upstream(&mut self, r: ReqRef) {
        let (i, now) = (self.requests.server_of(r), self.kernel.now);
        let mut attempt = self.requests.get(r).app_attempt;
        let picked = self.farm.routes[i].as_mut().and_then(|u| u.group.pick(now, &mut attempt).ok().map(|p| u.apps[p]));
        let Some(j) = picked else {
            self.nginx_error(r);
            return;
        };
        let q = self.requests.get_mut(r);
        q.app_attempt = attempt;
        q.app = j;
        q.remote_app = true;
        let lan = self.lan();
        self.travel(r, Stage::ToApp, NodeId::Web(i as u16), NodeId::App(j), lan, Ev::ReachApp(r));
    }

    /// The request reaches a remote application server: it is refused if the server is down,
    /// cut off, or its listen backlog is full.
    pub(super) fn on_reach_app(&mut self, r: ReqRef) {
        let (i, j) = (self.requests.server_of(r), self.requests.app_of(r));
        let refused = !self.farm.servers[j].app_alive || self.app_backlog_full(j);
        if refused || self.is_cut(NodeId::Web(i as u16), NodeId::App(j as u16)) {
            let lan = self.lan();
            self.travel(
                r,
                Stage::AppRefused,
                NodeId::App(j as u16),
                NodeId::Web(i as u16),
                lan,
                Ev::AppRefusedAtWeb(r),
            );
            return;
        }
        self.admit_to_app(r, j);
    }

    /// A peer's refusal is back at Nginx: the peer's failure counts, the next peer is tried.
    pub(super) fn on_app_refused_at_web(&mut self, r: ReqRef) {
        self.upstream_failed(r, Failure::Error { request_sent: false });
    }

    /// The peer that had the request failed (`failure`): Nginx counts it and passes the
    /// request on if `proxy_next_upstream` allows, else answers 502.
    pub(super) fn upstream_failed(&mut self, r: ReqRef, failure: Failure) {
        let (i, now) = (self.requests.server_of(r), self.kernel.now);
        let (app, write, mut attempt) = {
            let q = self.requests.get(r);
            (q.app, q.write, q.app_attempt)
        };
        if let Some(u) = self.farm.routes.get_mut(i).and_then(Option::as_mut) {
            if let Some(peer) = u.peer_of(app) {
                u.group.report(now, peer, false);
            }
        }
        // GET is idempotent, POST (a write) is not: a POST already sent is not passed on.
        let again = attempt.try_next(failure, !write);
        self.requests.get_mut(r).app_attempt = attempt;
        if again {
            self.pass_upstream(r);
        } else {
            self.nginx_error(r);
        }
    }

    /// A remote application's answer (an error page included) is back at Nginx.
    pub(super) fn on_app_reply_at_web(&mut self, r: ReqRef) {
        let (i, app, now) = (self.requests.server_of(r), self.requests.get(r).app, self.kernel.now);
        if let Some(u) = self.farm.routes.get_mut(i).and_then(Option::as_mut) {
            if let Some(peer) = u.peer_of(app) {
                // A 5xx answer counts as a success of the peer (not in proxy_next_upstream).
                u.group.report(now, peer, true);
            }
        }
        if !self.farm.servers[i].alive {
            // Nginx died while the application worked: the answer has no connection to go on.
            self.requests.get_mut(r).fail = Some(FailCause::ServerDied);
        }
        self.reply_from_nginx(r);
    }

    /// The application's work is done (answer or error): its worker is free, and the answer
    /// goes to Nginx (the same machine, or back over the network).
    pub(super) fn finish_app(&mut self, r: ReqRef) {
        let j = self.requests.app_of(r);
        self.set_busy(j, -1);
        self.start_next_waiting(j);
        if !self.requests.get(r).remote_app {
            self.reply_from_nginx(r);
            return;
        }
        let i = self.requests.server_of(r);
        let lan = self.lan();
        self.travel(r, Stage::FromApp, NodeId::App(j as u16), NodeId::Web(i as u16), lan, Ev::AppReplyAtWeb(r));
    }

    /// Nginx answers 502 itself: no application server could take the request.
    fn nginx_error(&mut self, r: ReqRef) {
        self.requests.get_mut(r).fail = Some(FailCause::AppDown);
        self.reply_from_nginx(r);
    }

    /// Nginx's answer goes back to the balancer.
    pub(super) fn reply_from_nginx(&mut self, r: ReqRef) {
        let (i, lb) = (self.requests.server_of(r), self.requests.get(r).lb);
        let lan = self.lb_lan();
        self.travel(r, Stage::ToLbReply, NodeId::Web(i as u16), NodeId::Lb(lb), lan, Ev::ReplyAtLb(r));
    }

    /// Application server `j`'s process died: its requests fail at their Nginx, which passes a
    /// read on to the next peer of its upstream (a POST already sent is not passed on) or
    /// answers 502; Nginx itself stays up, and so, for the balancer, does the web server.
    pub(super) fn app_died(&mut self, j: usize) {
        self.set_busy(j, 0);
        let w = &mut self.farm.servers[j];
        w.app_alive = false;
        w.busy = 0;
        w.waiting.clear();
        let app = j as u16;
        let lost = self.requests.where_(|q| {
            q.app == app
                && (q.remote_app || q.server == Some(app))
                && matches!(
                    q.stage,
                    Stage::WebWait | Stage::App | Stage::ToDb | Stage::DbWait | Stage::Db | Stage::FromDb
                )
        });
        for r in lost {
            if self.requests.is_at(r, Stage::App) {
                self.cancel_work(NodeId::App(app), Ev::AppDone(r));
            }
            if self.requests.get(r).remote_app {
                self.upstream_failed(r, Failure::Error { request_sent: true });
            } else {
                self.nginx_error(r);
            }
        }
    }
}
