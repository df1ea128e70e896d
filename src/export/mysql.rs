//! `my-dbN.cnf`: MySQL/MariaDB settings of each database node (MariaDB 10.3+ names, where
//! semi-synchronous replication is built in).

use super::header;
use crate::scenario::{Failover, ReadFrom, Replication, Scenario};
use std::fmt::Write;

/// The settings of database node `index` (0 = db1, the primary).
pub fn render(s: &Scenario, index: usize) -> String {
    let d = &s.db;
    let primary = index == 0;
    let id = index + 1;
    let role = if primary { "the primary" } else { "a replica" };
    let mut out = header("#", &format!("my-db{id}.cnf: database node db{id}, {role} (MariaDB 10.11)"), s);
    out.push_str(&model_notes(s, primary));
    let _ = writeln!(out, "\n[mysqld]\nserver_id = {id}");
    let _ = writeln!(
        out,
        "# The model runs {} queries at once here; MariaDB 10.6+ has no such limit (innodb_thread_concurrency\n# was removed), so the real bound is the CPU and max_connections.",
        d.workers
    );
    // A replica keeps a binlog of its own only when it may be promoted.
    let may_promote = d.failover == Failover::Auto;
    if primary || may_promote {
        out.push_str("log_bin = mysql-bin\nbinlog_format = ROW\n");
    }
    if primary {
        out.push_str("read_only = OFF\n");
    } else {
        out.push_str("read_only = ON\nrelay_log = relay-bin\n");
        out.push_str("# One applier thread: the model applies binlog events in order at a finite rate.\n");
        out.push_str("slave_parallel_threads = 0\n");
        if may_promote {
            out.push_str("log_slave_updates = ON\n");
        }
    }
    if d.replication == Replication::Semisync {
        out.push_str(&semisync(s, primary, may_promote));
    }
    out
}

fn semisync(s: &Scenario, primary: bool, may_promote: bool) -> String {
    let mut out = String::from("# Semi-synchronous (AFTER_SYNC): a write is acknowledged once a replica has it.\n");
    if !primary && may_promote && !s.db.semisync_master_on_replicas {
        out.push_str("# The primary side stays off: after a promotion the failover manager turns it on once a replica\n# follows (the model: when a replica is sent the newest transaction), so no write stalls.\n");
        out.push_str("rpl_semi_sync_master_enabled = OFF\n");
    }
    if primary || (may_promote && s.db.semisync_master_on_replicas) {
        out.push_str("rpl_semi_sync_master_enabled = ON\nrpl_semi_sync_master_wait_point = AFTER_SYNC\n");
        let wait = if s.db.semisync_wait_no_slave { "ON" } else { "OFF" };
        let _ = writeln!(
            out,
            "# With no semi-sync replica connected, a commit {} for the timeout.\nrpl_semi_sync_master_wait_no_slave = {wait}",
            if s.db.semisync_wait_no_slave { "still waits" } else { "does not wait" }
        );
        let _ = writeln!(
            out,
            "# Without a replica's acknowledgement for this long (ms) the primary falls back to async.\nrpl_semi_sync_master_timeout = {}",
            s.db.semisync_timeout_ms.round() as u64
        );
    }
    if !primary || may_promote {
        out.push_str("rpl_semi_sync_slave_enabled = ON\n");
    }
    out
}

fn model_notes(s: &Scenario, primary: bool) -> String {
    let d = &s.db;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# The model: reads take {} ms and commits {} ms on average (exponential).",
        d.read_time_ms, d.write_time_ms
    );
    if !primary {
        let _ = writeln!(
            out,
            "# Binlog events reach this replica after {} ms; it applies {} per second.",
            d.ship_latency_ms, d.apply_rate_per_s
        );
    }
    let reads = match d.read_from {
        ReadFrom::Replica => "the application sends reads to the replicas in turn".to_string(),
        ReadFrom::Primary => "the application sends every query to the primary".to_string(),
        ReadFrom::Proxy => format!(
            "a proxy (ProxySQL, max_replication_lag {} s) routes reads to replicas; the model knows lag at once",
            d.max_replication_lag_ms / 1_000.0
        ),
    };
    let _ = writeln!(out, "# Reads: {reads}.");
    if d.failover == Failover::Auto {
        let _ = writeln!(
            out,
            "# Failover: a manager (orchestrator, MHA) checks the primary every {} ms and promotes after {} misses;\n# {}.",
            d.detect_interval_ms,
            d.detect_misses,
            if d.fencing { "an old primary that returns is fenced (rejoins read-only)" } else { "no fencing" }
        );
    }
    out
}
