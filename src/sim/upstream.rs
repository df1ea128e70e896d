//! Nginx's `upstream` group: how a web server picks the application server for a dynamic
//! request, counts failures and tries the next server. A pure state machine with Nginx's own
//! rules, read from its source (`src/http/ngx_http_upstream_round_robin.c` and
//! `src/http/ngx_http_upstream.c`); each rule below names the function it comes from.
//!
//! - Smooth weighted round robin (`ngx_http_upstream_get_peer`): every eligible peer adds its
//!   `effective_weight` to its `current_weight`; the largest `current_weight` wins (the first on
//!   ties) and gives back the sum of the weights added. With equal weights: plain rotation.
//! - A failure (`ngx_http_upstream_free_round_robin_peer`, state `NGX_PEER_FAILED`) adds one to
//!   `fails` and stamps `checked` and `accessed` with the time; `effective_weight` drops by
//!   `weight / max_fails` (not below 0) and climbs back by one per pick it takes part in.
//! - A peer is skipped (`ngx_http_upstream_get_peer`) while `fails >= max_fails` and
//!   `now − checked <= fail_timeout`, in whole seconds (`ngx_time()`). Once `fail_timeout` has
//!   passed it is eligible again; the pick that chooses it stamps `checked = now`, which makes it
//!   unavailable to every other request for another `fail_timeout`: one trial request.
//! - A success resets `fails` to 0 only if `accessed < checked`, i.e. a pick stamped `checked`
//!   after the last failure (`ngx_http_upstream_free_round_robin_peer`: "mark peer live if check
//!   passed"). So with `max_fails > 1` failures add up within a `fail_timeout` window even with
//!   successes between them.
//! - An upstream with a single server (`peers->single`, and no backup) ignores `max_fails`: the
//!   server is always tried and its `fails` reset after every use
//!   (`ngx_http_upstream_get_round_robin_peer`, `ngx_http_upstream_free_round_robin_peer`).
//! - When no peer is eligible `ngx_http_upstream_get_round_robin_peer` returns `NGX_BUSY`;
//!   `ngx_http_upstream_connect` logs "no live upstreams" and calls `ngx_http_upstream_next`
//!   with `NGX_HTTP_UPSTREAM_FT_NOLIVE`, which is never in the `proxy_next_upstream` mask: the
//!   client gets 502 at once. Since Nginx 1.11.5 (commit "removed the quick recovery mechanism")
//!   the peers' `fails` are no longer reset when all of them have failed.
//! - `proxy_next_upstream` defaults to `error timeout` (`ngx_http_proxy_merge_loc_conf`): after a
//!   connection error or a timeout the request goes to the next peer it has not tried yet
//!   (the per-request `tried` bitmap), at most once per peer (`peer.tries` = the number of peers,
//!   `proxy_next_upstream_tries 0` = no further cap), but a non-idempotent request (POST, LOCK,
//!   PATCH) is not passed on once it was sent (`NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT`,
//!   `ngx_http_upstream_next`). A 5xx answer is not a failure by default: it goes to the client
//!   and counts as a success of the peer. When Nginx gives up: 502 after an error, 504 after a
//!   timeout (`ngx_http_upstream_next`).
//!
//! Not modelled: backup servers, `down`, `max_conns`, `slow_start`, sticky routes, and the
//! several worker processes of a real Nginx (each has its own state unless the upstream has a
//! `zone`; the model is one worker, or a shared zone).

use std::fmt;

use super::time::{SimTime, US_PER_S};

/// Nginx's defaults for a `server` line of an `upstream` block (`ngx_http_upstream_server`).
pub const DEFAULT_WEIGHT: u32 = 1;
pub const DEFAULT_MAX_FAILS: u32 = 1;
pub const DEFAULT_FAIL_TIMEOUT_S: u32 = 10;

/// Most servers in one upstream group here: a request's tried set is one 64-bit word.
pub const MAX_PEERS: usize = 64;

/// "Never": the time stamps of a peer that was never picked. Nginx starts them at 0 in Unix time,
/// which is always more than `fail_timeout` ago; the model's clock starts at 0, so its "never"
/// must lie that far in the past too.
const NEVER_S: i64 = i64::MIN / 4;

/// One `server` line: `server app1 weight=1 max_fails=1 fail_timeout=10s;`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    pub weight: u32,
    /// 0 turns failure accounting off.
    pub max_fails: u32,
    /// Whole seconds, as Nginx stores it.
    pub fail_timeout_s: u32,
}

impl Default for PeerConfig {
    fn default() -> PeerConfig {
        PeerConfig { weight: DEFAULT_WEIGHT, max_fails: DEFAULT_MAX_FAILS, fail_timeout_s: DEFAULT_FAIL_TIMEOUT_S }
    }
}

/// A group Nginx would refuse to load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpstreamError {
    /// "no servers in upstream".
    NoServers,
    TooManyServers {
        count: usize,
    },
    /// Nginx rejects `weight=0` ("invalid parameter").
    ZeroWeight {
        peer: usize,
    },
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpstreamError::NoServers => write!(f, "no servers in upstream"),
            UpstreamError::TooManyServers { count } => {
                write!(f, "{count} servers in one upstream (at most {MAX_PEERS})")
            }
            UpstreamError::ZeroWeight { peer } => {
                write!(f, "server {} of the upstream: weight must be at least 1", peer + 1)
            }
        }
    }
}

impl std::error::Error for UpstreamError {}

/// No server can be tried: Nginx answers 502 ("no live upstreams" in its error log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoLiveUpstreams;

impl NoLiveUpstreams {
    pub const STATUS: u16 = 502;
}

/// How one try of a peer went wrong (the `proxy_next_upstream` cases on by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Connection refused or reset, or the peer closed without answering. `request_sent`: the
    /// request had reached the peer (a refused connection: false).
    Error { request_sent: bool },
    /// `proxy_connect_timeout` / `proxy_read_timeout` expired.
    Timeout { request_sent: bool },
}

impl Failure {
    /// The status the client gets if Nginx gives up after this failure (`ngx_http_upstream_next`).
    pub fn status(self) -> u16 {
        match self {
            Failure::Error { .. } => 502,
            Failure::Timeout { .. } => 504,
        }
    }

    fn request_sent(self) -> bool {
        match self {
            Failure::Error { request_sent } | Failure::Timeout { request_sent } => request_sent,
        }
    }
}

#[derive(Clone, Debug)]
struct Peer {
    config: PeerConfig,
    current_weight: i64,
    effective_weight: i64,
    fails: u32,
    /// Last failure, whole seconds.
    accessed_s: i64,
    /// Last failure or the pick that opened a new `fail_timeout` window, whole seconds.
    checked_s: i64,
}

/// One request's passage through the group: the peers it has tried and the tries left
/// (`Default`: nothing tried and no tries, until [`Upstream::begin`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempt {
    tried: u64,
    tries_left: u32,
}

impl Attempt {
    pub fn has_tried(&self, peer: usize) -> bool {
        peer < MAX_PEERS && self.tried & (1 << peer) != 0
    }

    /// After `failure` on the peer just tried: whether Nginx passes the request to the next peer
    /// (`ngx_http_upstream_next` with the default `proxy_next_upstream error timeout`). Uses up
    /// one try either way, as `ngx_http_upstream_free_round_robin_peer` does.
    pub fn try_next(&mut self, failure: Failure, idempotent: bool) -> bool {
        self.tries_left = self.tries_left.saturating_sub(1);
        let non_idempotent_sent = failure.request_sent() && !idempotent;
        self.tries_left > 0 && !non_idempotent_sent
    }
}

/// The servers of one `upstream` block and their round-robin and failure state.
#[derive(Clone, Debug)]
pub struct Upstream {
    peers: Vec<Peer>,
}

/// Nginx's clock in failure accounting: whole seconds (`ngx_time()`).
fn whole_seconds(now: SimTime) -> i64 {
    (now / US_PER_S) as i64
}

impl Upstream {
    pub fn new(configs: &[PeerConfig]) -> Result<Upstream, UpstreamError> {
        if configs.is_empty() {
            return Err(UpstreamError::NoServers);
        }
        if configs.len() > MAX_PEERS {
            return Err(UpstreamError::TooManyServers { count: configs.len() });
        }
        if let Some(peer) = configs.iter().position(|c| c.weight == 0) {
            return Err(UpstreamError::ZeroWeight { peer });
        }
        let peers = configs
            .iter()
            .map(|&config| Peer {
                config,
                current_weight: 0,
                effective_weight: i64::from(config.weight),
                fails: 0,
                accessed_s: NEVER_S,
                checked_s: NEVER_S,
            })
            .collect();
        Ok(Upstream { peers })
    }

    /// `count` servers with Nginx's defaults (`weight=1 max_fails=1 fail_timeout=10s`).
    pub fn with_defaults(count: usize) -> Result<Upstream, UpstreamError> {
        Upstream::new(&vec![PeerConfig::default(); count])
    }

    pub fn len(&self) -> usize {
        self.peers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// A new request: nothing tried, one try per peer (`ngx_http_upstream_init_round_robin_peer`
    /// sets `peer.tries` to `ngx_http_upstream_tries`, the number of peers).
    pub fn begin(&self) -> Attempt {
        Attempt { tried: 0, tries_left: self.peers.len() as u32 }
    }

    /// Whether a new request could be sent to `peer` at `now` (not disabled by its failures).
    pub fn is_available(&self, now: SimTime, peer: usize) -> bool {
        self.peers.get(peer).is_some_and(|p| self.is_single() || !p.is_disabled(whole_seconds(now)))
    }

    /// The peer for the request's next try (`ngx_http_upstream_get_round_robin_peer`).
    pub fn pick(&mut self, now: SimTime, attempt: &mut Attempt) -> Result<usize, NoLiveUpstreams> {
        if self.is_single() {
            // `peers->single`: no failure accounting, no round robin; only a try already made
            // for this request (the `tries` count) stops it.
            if attempt.has_tried(0) || attempt.tries_left == 0 {
                return Err(NoLiveUpstreams);
            }
            attempt.tried |= 1;
            return Ok(0);
        }
        let now_s = whole_seconds(now);
        let best = self.smooth_weighted_choice(now_s, attempt.tried).ok_or(NoLiveUpstreams)?;
        attempt.tried |= 1 << best;
        let peer = &mut self.peers[best];
        // A pick after fail_timeout opens a new window: the trial request of a failed peer.
        if now_s - peer.checked_s > i64::from(peer.config.fail_timeout_s) {
            peer.checked_s = now_s;
        }
        Ok(best)
    }

    /// The loop of `ngx_http_upstream_get_peer`: eligible peers gain their effective weight, the
    /// first with the largest current weight wins and gives back the total.
    fn smooth_weighted_choice(&mut self, now_s: i64, tried: u64) -> Option<usize> {
        let mut best: Option<(usize, i64)> = None;
        let mut total = 0i64;
        for (i, peer) in self.peers.iter_mut().enumerate() {
            if tried & (1 << i) != 0 || peer.is_disabled(now_s) {
                continue;
            }
            peer.current_weight += peer.effective_weight;
            total += peer.effective_weight;
            if peer.effective_weight < i64::from(peer.config.weight) {
                peer.effective_weight += 1;
            }
            if best.is_none_or(|(_, best_weight)| peer.current_weight > best_weight) {
                best = Some((i, peer.current_weight));
            }
        }
        let (best, _) = best?;
        self.peers[best].current_weight -= total;
        Some(best)
    }

    /// The end of one try of `peer` (`ngx_http_upstream_free_round_robin_peer`): `ok` false for a
    /// [`Failure`], true for any answer (a 5xx answer included, by default).
    pub fn report(&mut self, now: SimTime, peer: usize, ok: bool) {
        let single = self.is_single();
        let Some(p) = self.peers.get_mut(peer) else { return };
        if single {
            p.fails = 0;
            return;
        }
        let now_s = whole_seconds(now);
        if ok {
            // "mark peer live if check passed"
            if p.accessed_s < p.checked_s {
                p.fails = 0;
            }
            return;
        }
        p.fails += 1;
        p.accessed_s = now_s;
        p.checked_s = now_s;
        // max_fails 0 turns the accounting off: no weight penalty either.
        if let Some(penalty) = p.config.weight.checked_div(p.config.max_fails) {
            p.effective_weight -= i64::from(penalty);
        }
        p.effective_weight = p.effective_weight.max(0);
    }

    fn is_single(&self) -> bool {
        self.peers.len() == 1
    }
}

impl Peer {
    /// `max_fails` reached within the last `fail_timeout` seconds.
    fn is_disabled(&self, now_s: i64) -> bool {
        let c = self.config;
        c.max_fails > 0 && self.fails >= c.max_fails && now_s - self.checked_s <= i64::from(c.fail_timeout_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SimTime = US_PER_S;

    /// A new request's first pick.
    fn first_pick(up: &mut Upstream, now: SimTime) -> Result<usize, NoLiveUpstreams> {
        up.pick(now, &mut up.begin())
    }

    fn picks(up: &mut Upstream, now: SimTime, count: usize) -> Vec<usize> {
        (0..count).map(|_| first_pick(up, now).unwrap()).collect()
    }

    #[test]
    fn equal_weights_rotate() {
        // ngx_http_upstream_get_peer with weight=1 everywhere: plain round robin from the first.
        let mut up = Upstream::with_defaults(3).unwrap();
        assert_eq!(picks(&mut up, 0, 7), vec![0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn smooth_weighted_round_robin_spreads_the_heavy_peer() {
        // The sequence of Nginx's smooth weighted round robin for weights 5, 1, 1 (the example of
        // the commit that introduced it): a a b a c a a.
        let weights = [5, 1, 1].map(|weight| PeerConfig { weight, ..PeerConfig::default() });
        let mut up = Upstream::new(&weights).unwrap();
        assert_eq!(picks(&mut up, 0, 7), vec![0, 0, 1, 0, 2, 0, 0]);
        assert_eq!(picks(&mut up, 0, 7), vec![0, 0, 1, 0, 2, 0, 0], "the cycle repeats");
    }

    #[test]
    fn one_failure_disables_a_peer_for_fail_timeout_in_whole_seconds() {
        // ngx_http_upstream_free_round_robin_peer stamps checked = 3 (ngx_time() is whole
        // seconds); ngx_http_upstream_get_peer skips the peer while now − 3 <= 10.
        let mut up = Upstream::with_defaults(2).unwrap();
        assert_eq!(first_pick(&mut up, 0), Ok(0));
        up.report(3 * S + 900_000, 0, false);
        assert!(!up.is_available(13 * S + 999_999, 0));
        assert_eq!(picks(&mut up, 13 * S + 999_999, 3), vec![1, 1, 1]);
        assert!(up.is_available(14 * S, 0), "eligible again once now − checked > fail_timeout");
    }

    #[test]
    fn after_fail_timeout_one_trial_request_then_back_or_out() {
        let mut up = Upstream::with_defaults(2).unwrap();
        up.report(0, 0, false);
        // At 11 s peer 0 is eligible; the pick that takes it stamps checked = 11, so the other
        // requests of that window skip it: one trial request (ngx_http_upstream_get_peer).
        let trial_at = 11 * S;
        let first = picks(&mut up, trial_at, 4);
        assert_eq!(first.iter().filter(|&&p| p == 0).count(), 1, "{first:?}");
        // The trial fails: out for another fail_timeout (ngx_http_upstream_free_round_robin_peer).
        up.report(trial_at, 0, false);
        assert!(!up.is_available(21 * S, 0));
        assert!(up.is_available(22 * S, 0));
        // The next trial succeeds: accessed (11) < checked (22), so fails goes back to 0 and the
        // peer takes its turns again.
        let trial = picks(&mut up, 22 * S, 3);
        assert!(trial.contains(&0));
        up.report(22 * S, 0, true);
        let after = picks(&mut up, 22 * S + 1, 4);
        assert_eq!(after.iter().filter(|&&p| p == 0).count(), 2, "{after:?}");
    }

    #[test]
    fn every_peer_failed_means_no_live_upstreams_without_quick_recovery() {
        // get_round_robin_peer returns NGX_BUSY → "no live upstreams" → 502 at once; since 1.11.5
        // the fails are not reset when all peers are out, so the next request gets 502 as well.
        let mut up = Upstream::with_defaults(2).unwrap();
        up.report(S, 0, false);
        up.report(S, 1, false);
        assert_eq!(first_pick(&mut up, 2 * S), Err(NoLiveUpstreams));
        assert_eq!(first_pick(&mut up, 5 * S), Err(NoLiveUpstreams));
        assert_eq!(NoLiveUpstreams::STATUS, 502);
        assert!(first_pick(&mut up, 12 * S).is_ok(), "after fail_timeout the trials start");
    }

    #[test]
    fn next_upstream_tries_each_peer_once() {
        // proxy_next_upstream error timeout: a refused connection goes to the next untried peer.
        let mut up = Upstream::with_defaults(3).unwrap();
        let mut attempt = up.begin();
        let failure = Failure::Error { request_sent: false };
        let mut tried = Vec::new();
        loop {
            let peer = up.pick(0, &mut attempt).unwrap();
            tried.push(peer);
            up.report(0, peer, false);
            if !attempt.try_next(failure, true) {
                break;
            }
        }
        assert_eq!(tried, vec![0, 1, 2], "each peer once, then Nginx gives up");
        assert_eq!(failure.status(), 502);
        assert_eq!(Failure::Timeout { request_sent: true }.status(), 504);
    }

    #[test]
    fn a_sent_post_is_not_passed_on_but_a_refused_one_is() {
        // NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT is not in the default proxy_next_upstream mask.
        let up = Upstream::with_defaults(2).unwrap();
        assert!(!up.begin().try_next(Failure::Timeout { request_sent: true }, false));
        assert!(up.begin().try_next(Failure::Timeout { request_sent: true }, true));
        assert!(up.begin().try_next(Failure::Error { request_sent: false }, false));
    }

    #[test]
    fn with_max_fails_3_failures_add_up_despite_successes_in_the_window() {
        // A success resets fails only when accessed < checked (a pick opened a new window after
        // the last failure): within the window, successes do not wipe the count.
        let config = PeerConfig { max_fails: 3, ..PeerConfig::default() };
        let mut up = Upstream::new(&[config, config]).unwrap();
        for second in 1..=3 {
            up.report(second * S, 0, false);
            up.report(second * S, 0, true);
        }
        assert!(!up.is_available(3 * S, 0), "three failures in the window, successes between them");
        assert!(up.is_available(14 * S, 0));
    }

    #[test]
    fn failure_lowers_the_effective_weight_which_climbs_back_one_per_pick() {
        // free_round_robin_peer: effective_weight −= weight / max_fails; get_peer: +1 per pick.
        let heavy = PeerConfig { weight: 3, max_fails: 3, ..PeerConfig::default() };
        let mut up = Upstream::new(&[heavy, PeerConfig::default()]).unwrap();
        up.report(0, 0, false);
        up.report(0, 0, false);
        // Effective weight 1 of 3: peer 1 gets its turn at once (unharmed: 0 0 1 0), then the
        // 3:1 cycle returns.
        assert_eq!(picks(&mut up, 0, 4), vec![0, 1, 0, 0]);
        assert_eq!(picks(&mut up, 0, 8), vec![0, 1, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn a_single_server_ignores_max_fails() {
        // peers->single: always tried, fails reset on every release; once per request.
        let mut up = Upstream::with_defaults(1).unwrap();
        for _ in 0..5 {
            up.report(S, 0, false);
        }
        let mut attempt = up.begin();
        assert_eq!(up.pick(2 * S, &mut attempt), Ok(0));
        assert!(!attempt.try_next(Failure::Error { request_sent: false }, true));
        assert_eq!(up.pick(2 * S, &mut attempt), Err(NoLiveUpstreams));
    }

    #[test]
    fn configurations_nginx_refuses_are_errors() {
        assert_eq!(Upstream::with_defaults(0).unwrap_err(), UpstreamError::NoServers);
        let zero = PeerConfig { weight: 0, ..PeerConfig::default() };
        let err = Upstream::new(&[PeerConfig::default(), zero]).unwrap_err();
        assert_eq!(err.to_string(), "server 2 of the upstream: weight must be at least 1");
        assert!(matches!(Upstream::with_defaults(65), Err(UpstreamError::TooManyServers { count: 65 })));
        let mut up = Upstream::with_defaults(2).unwrap();
        up.report(0, 7, false);
        assert!(!up.is_available(0, 7), "an unknown peer is ignored, not a panic");
    }
}
