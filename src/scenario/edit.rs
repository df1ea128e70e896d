//! Edits the page makes to a scenario before restarting with it, with the rules that keep the
//! edited scenario valid: the page calls these instead of repairing fields itself.

use super::machines::{ComponentId, ComponentKind};
use super::{ReadFrom, Scenario};

/// Set the number of database replicas. With none left, reads sent to a replica have nowhere
/// to go (`validate()` refuses that pair), so reads move to the primary; any other choice of
/// where reads go is kept.
///
/// A machine that named a replica now gone stops naming it (`validate()` refuses a machine
/// running a component the design does not have); new replicas get machines of their own.
pub fn set_db_replicas(s: &mut Scenario, replicas: u32) {
    s.db.replicas = replicas;
    if replicas == 0 && s.db.read_from == ReadFrom::Replica {
        s.db.read_from = ReadFrom::Primary;
    }
    let gone = |name: &String| {
        name.parse::<ComponentId>().is_ok_and(|id| id.kind == ComponentKind::Db && id.index > replicas as usize)
    };
    for m in &mut s.machines {
        m.runs.retain(|name| !gone(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::preset;

    #[test]
    fn no_replicas_sends_replica_reads_to_the_primary_and_stays_valid() {
        let mut s = preset("three-server").expect("preset");
        assert_eq!(s.db.read_from, ReadFrom::Replica);
        set_db_replicas(&mut s, 0);
        assert_eq!((s.db.replicas, s.db.read_from), (0, ReadFrom::Primary));
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        assert!(s.machines.iter().all(|m| !m.runs.iter().any(|c| c == "db2")), "no machine runs the gone replica");
        assert!(s.machines.iter().any(|m| m.runs.iter().any(|c| c == "db1")), "the primary stays on its machine");
        // Setting the field alone is what validate() refuses.
        let mut bare = preset("three-server").expect("preset");
        bare.db.replicas = 0;
        assert!(!bare.validate().is_empty());
    }

    #[test]
    fn other_counts_and_other_read_choices_are_kept() {
        let mut s = preset("three-server").expect("preset");
        set_db_replicas(&mut s, 3);
        assert_eq!((s.db.replicas, s.db.read_from), (3, ReadFrom::Replica));
        s.db.read_from = ReadFrom::Proxy;
        set_db_replicas(&mut s, 0);
        assert_eq!((s.db.replicas, s.db.read_from), (0, ReadFrom::Proxy));
    }
}
