//! The simulation core: pure, deterministic, no web crate and no machine clock.
//! `Sim` is the model, `Driver` maps wall time to simulated time, `View` is what is drawn.

pub mod balancer;
pub mod capacity;
pub mod command;
pub mod cpu;
pub mod design;
pub mod driver;
mod engine;
pub mod growth;
pub mod metrics;
pub mod node;
mod queue;
pub mod replay;
pub mod report;
pub mod rng;
pub mod spof;
pub mod sweep;
pub mod theory;
pub mod time;
pub mod trace;
pub mod upstream;
pub mod view;

pub use command::{Command, CommandKind};
pub use driver::{Driver, FrameReport};
pub use engine::{backlog_bound, queue_bound, MAX_LIVE_REQUESTS, TIMELINE_CAPACITY, UNLIMITED_QUEUE_BOUND};
pub use engine::{
    Alert, AlertKind, DbRole, DbStats, HealthState, MachineProbes, MonitorView, OutsideProbe, SecurityStats, Sim,
    SnifferLine, Stage, TraceConfig, VrrpRole,
};
pub use engine::{DuplicateAddress, DRAIN_LIMIT_S, TRACK_INTERVAL_MS};
pub use engine::{ReportedLag, BINLOG_TIMES_CAPACITY, LAG_WHEN_NULL_MS, REBUILD_POSITIONS_PER_S, REBUILD_SETUP_MS};
pub use metrics::FailCause;
pub use node::NodeId;
pub use report::Report;
pub use time::SimTime;
pub use view::{MachineView, Particle, ParticleKind, View};
