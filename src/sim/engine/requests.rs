//! The request table: a slab of request slots reused through a free list, each handle carrying
//! the slot's generation so an event of a request that ended (and whose slot was reused) is
//! recognised as stale. Owns the ids and the count of requests alive.

use super::{database, Stage};
use crate::sim::metrics::FailCause;
use crate::sim::node::NodeId;
use crate::sim::time::SimTime;

/// A handle on a request slot; `generation` detects a slot reused since the event was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReqRef {
    pub(crate) idx: u32,
    pub(crate) generation: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) generation: u32,
    pub(crate) id: u64,
    pub(crate) client: u32,
    pub(crate) write: bool,
    pub(crate) measured: bool,
    pub(crate) arrived_at: SimTime,
    /// Uniform numbers fixed at arrival: the request's intrinsic work, so two designs fed the
    /// same traffic see the same job sizes (common random numbers).
    pub(crate) web_u: f64,
    pub(crate) db_u: f64,
    /// The balancer that has the request (meaningful once `at_lb`).
    pub(crate) lb: u8,
    /// Whether the request was sent to a balancer (`lb`), so a failure is filed under it.
    pub(crate) at_lb: bool,
    pub(crate) server: Option<u16>,
    /// A static file: Nginx answers it itself (drawn at arrival from the read/write draw).
    pub(crate) is_static: bool,
    /// The application server whose workers hold the request: `server` itself when it runs
    /// beside Nginx (`remote_app` false), else the upstream peer Nginx picked.
    pub(crate) app: u16,
    pub(crate) remote_app: bool,
    /// Nginx's upstream passage (peers tried, tries left) when the application is remote.
    pub(crate) app_attempt: crate::sim::upstream::Attempt,
    pub(crate) db: u8,
    /// Connection attempts that failed so far (for `retries`).
    pub(crate) attempts: u8,
    /// A server to avoid when redispatching.
    pub(crate) excluded: Option<u16>,
    pub(crate) stage: Stage,
    pub(crate) hop: (NodeId, NodeId),
    pub(crate) hop_start: SimTime,
    pub(crate) hop_end: SimTime,
    pub(crate) fail: Option<FailCause>,
    pub(crate) read_back: database::ReadBack,
}

#[derive(Default)]
pub(crate) struct Requests {
    pub(crate) slots: Vec<Request>,
    pub(crate) free_slots: Vec<u32>,
    pub(crate) next_id: u64,
    /// Requests alive (arrived, not yet answered).
    pub(crate) live: u64,
}

impl Requests {
    pub(crate) fn new() -> Requests {
        Requests { next_id: 1, ..Requests::default() }
    }

    /// The next request id (ids count every arrival, simulated or not).
    pub(crate) fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Put `request` in a free slot (or a new one) and count it alive.
    pub(crate) fn alloc(&mut self, request: Request) -> ReqRef {
        let r = match self.free_slots.pop() {
            Some(idx) => {
                let slot = &mut self.slots[idx as usize];
                let generation = slot.generation.wrapping_add(1);
                *slot = Request { generation, ..request };
                ReqRef { idx, generation }
            }
            None => {
                self.slots.push(request);
                ReqRef { idx: (self.slots.len() - 1) as u32, generation: 0 }
            }
        };
        self.live += 1;
        r
    }

    /// The request ended: its slot is free for the next arrival.
    pub(crate) fn free(&mut self, r: ReqRef) {
        self.slots[r.idx as usize].stage = Stage::Free;
        self.free_slots.push(r.idx);
        self.live -= 1;
    }

    /// The handle still names a live request (not one that ended or whose slot was reused).
    #[inline]
    pub(crate) fn valid(&self, r: ReqRef) -> bool {
        self.slots.get(r.idx as usize).is_some_and(|q| q.generation == r.generation && q.stage != Stage::Free)
    }

    /// The handle names a live request in `stage`.
    #[inline]
    pub(crate) fn is_at(&self, r: ReqRef, stage: Stage) -> bool {
        self.valid(r) && self.get(r).stage == stage
    }

    #[inline]
    pub(crate) fn get(&self, r: ReqRef) -> &Request {
        &self.slots[r.idx as usize]
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, r: ReqRef) -> &mut Request {
        &mut self.slots[r.idx as usize]
    }

    /// The server a request was sent to (0 before it has one).
    #[inline]
    pub(crate) fn server_of(&self, r: ReqRef) -> usize {
        self.get(r).server.map_or(0, |s| s as usize)
    }

    /// The application server whose workers hold the request (see [`Request::app`]).
    #[inline]
    pub(crate) fn app_of(&self, r: ReqRef) -> usize {
        self.get(r).app as usize
    }

    /// The node that talks to the database for the request: the web server's own node when the
    /// application runs beside Nginx (so links and traces name `web1` as before), else `appN`.
    #[inline]
    pub(crate) fn app_node(&self, r: ReqRef) -> NodeId {
        let q = self.get(r);
        if q.remote_app {
            NodeId::App(q.app)
        } else {
            NodeId::Web(q.app)
        }
    }

    /// Live requests, for drawing and invariants.
    pub(crate) fn live(&self) -> impl Iterator<Item = &Request> {
        self.slots.iter().filter(|q| q.stage != Stage::Free)
    }

    /// Handles of the live requests that match (for failing them in bulk).
    pub(crate) fn where_(&self, mut keep: impl FnMut(&Request) -> bool) -> Vec<ReqRef> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, q)| q.stage != Stage::Free && keep(q))
            .map(|(idx, q)| ReqRef { idx: idx as u32, generation: q.generation })
            .collect()
    }
}
