//! HAProxy's server selection (doc/configuration.txt, `balance`). The balancer sees each
//! server's weight, its open connections and its `maxconn`; selection never blocks: `None`
//! means "every eligible server is full", and the request waits in the balancer's queue.

use super::rng::{mix64, uniform};
use crate::scenario::Algorithm;
use rand_chacha::ChaCha8Rng;

/// What the balancer knows of one server when choosing.
pub struct Candidate {
    /// Weight in force (runtime weight; for `static-rr` the start weight unless drained).
    pub weight: u32,
    /// Connections open to the server (being served or waiting on it).
    pub conns: u32,
    /// Requests waiting in the balancer for this server specifically (persistence).
    pub queued: u32,
    /// 0 = unlimited.
    pub maxconn: u32,
    /// In the farm and able to take traffic (not removed, not marked down by health checks).
    pub usable: bool,
    /// In the pool the balancer draws from now: the active servers, or the backups when every
    /// active server is down (HAProxy `backup`; only the first backup unless `allbackups`).
    pub in_pool: bool,
    /// A backup server (active-passive).
    pub backup: bool,
    /// Smooth weighted round-robin state.
    pub rr_current: i64,
}

impl Candidate {
    /// Below `maxconn` (0 = unlimited).
    pub fn has_slot(&self) -> bool {
        self.maxconn == 0 || self.conns < self.maxconn
    }

    /// May take a balanced request now: usable, in the pool, with weight and a free slot.
    pub fn eligible(&self) -> bool {
        self.usable && self.in_pool && self.weight > 0 && self.has_slot()
    }

    /// An active (not backup) server that is up with weight: what makes backups stand by.
    pub fn is_active_up(&self) -> bool {
        !self.backup && self.usable && self.weight > 0
    }

    /// `a` is less loaded than `b`: compare (conns + queued) / weight without division.
    fn less_loaded(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
        let la = (a.conns + a.queued) as u64 * b.weight as u64;
        let lb = (b.conns + b.queued) as u64 * a.weight as u64;
        la.cmp(&lb)
    }
}

/// Where a request should go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Send it to this server now.
    Server(usize),
    /// It belongs to this server (hash persistence) but the server is full: queue for it.
    WaitFor(usize),
    /// Every server that could take it is full: the balancer's shared queue.
    Queue,
    /// No server can ever take it now (all drained, removed or down): 503.
    NoServer,
}

#[derive(Default)]
pub struct Selector {
    /// Rotating start for ties under `leastconn`.
    lc_next: usize,
}

impl Selector {
    /// `avoid` is the server a redispatched request just failed on (HAProxy's `prev_srv`):
    /// every algorithm but the map-based hash steers away from it when another server can
    /// take the request, and falls back to it when none can.
    pub fn choose(
        &mut self,
        algorithm: Algorithm,
        random_draws: u32,
        servers: &mut [Candidate],
        client: u32,
        avoid: Option<usize>,
        rng: &mut ChaCha8Rng,
    ) -> Choice {
        if !servers.iter().any(|s| s.usable && s.in_pool && s.weight > 0) {
            return Choice::NoServer;
        }
        // Round robin spends turns to avoid a server; the map-based hash (`hash-type
        // map-based`, map_get_server_hash) takes no server to avoid; the others skip it.
        let hidden = match algorithm {
            Algorithm::Roundrobin | Algorithm::StaticRr | Algorithm::Source => None,
            _ => avoid.filter(|&i| i < servers.len() && servers[i].eligible()),
        };
        let choice = match algorithm {
            Algorithm::Roundrobin | Algorithm::StaticRr => smooth_round_robin(servers, avoid),
            Algorithm::Leastconn => self.least_connections(servers, hidden),
            Algorithm::First => (0..servers.len())
                .position(|i| eligible_unless(servers, i, hidden))
                .map_or(Choice::Queue, Choice::Server),
            Algorithm::Source => source_hash(servers, client),
            Algorithm::Random => random_draws_least_loaded(servers, random_draws, rng, hidden),
        };
        match hidden {
            Some(i) => {
                // Nobody else can take it now: the avoided server is taken after all.
                if choice == Choice::Queue {
                    Choice::Server(i)
                } else {
                    choice
                }
            }
            None => choice,
        }
    }

    fn least_connections(&mut self, servers: &[Candidate], hidden: Option<usize>) -> Choice {
        let n = servers.len();
        let mut best: Option<usize> = None;
        // Walk from the rotating start so the first of the least-loaded ties is the next in turn.
        for k in 0..n {
            let i = (self.lc_next + k) % n;
            if !eligible_unless(servers, i, hidden) {
                continue;
            }
            match best {
                Some(b) if Candidate::less_loaded(&servers[i], &servers[b]).is_ge() => {}
                _ => best = Some(i),
            }
        }
        match best {
            Some(i) => {
                self.lc_next = (i + 1) % n;
                Choice::Server(i)
            }
            None => Choice::Queue,
        }
    }
}

/// Server `i` may take the request, unless it is the one being avoided (`hidden`).
fn eligible_unless(servers: &[Candidate], i: usize, hidden: Option<usize>) -> bool {
    servers[i].eligible() && hidden != Some(i)
}

/// Nginx-style smooth weighted round robin (what HAProxy's roundrobin converges to): each
/// eligible server gains its weight, the richest is picked and pays the total back. Equal
/// weights give strict alternation; 5:1:1 gives a,a,b,a,c,a,a rather than a,a,a,a,a,b,c.
///
/// A redispatch away from `avoid` works as fwrr_get_next_server does: if the server in turn
/// is the one to avoid, its turn is spent and the next server in turn is taken, so the
/// redispatch uses up another server's turn too; only when no other server can take the
/// request is the avoided one kept.
fn smooth_round_robin(servers: &mut [Candidate], avoid: Option<usize>) -> Choice {
    let pick = match round_robin_turn(servers, None) {
        Some(b) if Some(b) == avoid => round_robin_turn(servers, avoid).or(Some(b)),
        other => other,
    };
    pick.map_or(Choice::Queue, Choice::Server)
}

/// One turn of smooth weighted round robin among the eligible servers other than `skip`.
fn round_robin_turn(servers: &mut [Candidate], skip: Option<usize>) -> Option<usize> {
    let mut total: i64 = 0;
    let mut best: Option<usize> = None;
    for i in 0..servers.len() {
        if !servers[i].eligible() || Some(i) == skip {
            continue;
        }
        servers[i].rr_current += servers[i].weight as i64;
        total += servers[i].weight as i64;
        if best.is_none_or(|b| servers[i].rr_current > servers[b].rr_current) {
            best = Some(i);
        }
    }
    let b = best?;
    servers[b].rr_current -= total;
    Some(b)
}

/// `balance source` with map-based hashing: the client hash indexes a table of usable servers
/// laid out by weight, so a client sticks to one server while the farm is unchanged.
fn source_hash(servers: &[Candidate], client: u32) -> Choice {
    let total: u64 = servers.iter().filter(|s| s.usable && s.in_pool).map(|s| s.weight as u64).sum();
    if total == 0 {
        return Choice::NoServer;
    }
    let mut slot = mix64(client as u64) % total;
    for (i, s) in servers.iter().enumerate() {
        if !(s.usable && s.in_pool) {
            continue;
        }
        if slot < s.weight as u64 {
            return if s.has_slot() { Choice::Server(i) } else { Choice::WaitFor(i) };
        }
        slot -= s.weight as u64;
    }
    Choice::NoServer
}

/// `balance random(<draws>)`: draw servers at random in proportion to weight, keep the least
/// loaded. Draws are independent (with replacement), as in the power-of-d-choices analysis.
fn random_draws_least_loaded(servers: &[Candidate], draws: u32, rng: &mut ChaCha8Rng, hidden: Option<usize>) -> Choice {
    let total: u64 =
        (0..servers.len()).filter(|&i| eligible_unless(servers, i, hidden)).map(|i| servers[i].weight as u64).sum();
    if total == 0 {
        return Choice::Queue;
    }
    let mut best: Option<usize> = None;
    for _ in 0..draws.max(1) {
        let mut slot = (uniform(rng) * total as f64) as u64;
        let mut pick = None;
        for (i, s) in servers.iter().enumerate() {
            if !eligible_unless(servers, i, hidden) {
                continue;
            }
            if slot < s.weight as u64 {
                pick = Some(i);
                break;
            }
            slot -= s.weight as u64;
        }
        let Some(i) = pick else { continue };
        match best {
            Some(b) if Candidate::less_loaded(&servers[i], &servers[b]).is_ge() => {}
            _ => best = Some(i),
        }
    }
    best.map_or(Choice::Queue, Choice::Server)
}

/// Decide which servers form the pool: every usable active server with weight; if there is
/// none, the backups (the first usable one only, unless `allbackups`).
pub fn update_pool(servers: &mut [Candidate], allbackups: bool) {
    let any_active = servers.iter().any(Candidate::is_active_up);
    let mut first_backup_taken = false;
    for s in servers.iter_mut() {
        s.in_pool = if any_active {
            !s.backup
        } else if s.backup && s.usable && s.weight > 0 && (allbackups || !first_backup_taken) {
            first_backup_taken = true;
            true
        } else {
            false
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(backup: bool, usable: bool) -> Candidate {
        Candidate { weight: 1, conns: 0, queued: 0, maxconn: 0, usable, in_pool: true, backup, rr_current: 0 }
    }

    #[test]
    fn backups_join_the_pool_only_when_every_active_server_is_down() {
        let mut s = vec![c(false, true), c(true, true), c(true, true)];
        update_pool(&mut s, false);
        assert_eq!(s.iter().map(|x| x.in_pool).collect::<Vec<_>>(), vec![true, false, false]);
        s[0].usable = false;
        update_pool(&mut s, false);
        assert_eq!(s.iter().map(|x| x.in_pool).collect::<Vec<_>>(), vec![false, true, false]);
        update_pool(&mut s, true);
        assert_eq!(s.iter().map(|x| x.in_pool).collect::<Vec<_>>(), vec![false, true, true]);
    }

    #[test]
    fn choosing_around_an_avoided_server_leaves_the_pool_untouched() {
        use rand::SeedableRng;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut selector = Selector::default();
        for algorithm in [Algorithm::Leastconn, Algorithm::First, Algorithm::Random] {
            let mut s = vec![c(false, true), c(false, true)];
            let choice = selector.choose(algorithm, 2, &mut s, 0, Some(0), &mut rng);
            assert_eq!(choice, Choice::Server(1), "{algorithm:?} steers away from the avoided server");
            assert!(s.iter().all(|x| x.in_pool), "{algorithm:?} changed the pool");
            s[1].conns = 1;
            s[1].maxconn = 1;
            let choice = selector.choose(algorithm, 2, &mut s, 0, Some(0), &mut rng);
            assert_eq!(choice, Choice::Server(0), "{algorithm:?}: nobody else can take it, so the avoided one does");
        }
    }
}
