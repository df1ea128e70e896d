//! Edits the page makes to a scenario before restarting with it, with the rules that keep the
//! edited scenario valid: the page calls these instead of repairing fields itself.

use super::machines::{ComponentId, ComponentKind};
use super::{apply_setting, setting, Algorithm, ReadFrom, Scenario};

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

/// A variant of a design to run beside it: `key=value` applied to a copy, and the copy checked
/// as a whole. The message names what was typed. The seed cannot vary: both runs share it, so
/// they see the same visitors.
pub fn variant(base: &Scenario, key: &str, value: &str) -> Result<Scenario, String> {
    let key = key.trim();
    if key == "seed" {
        return Err("the seed is not a setting to vary here: both runs share it, so they get the same visitors".into());
    }
    if setting(key).is_none() {
        return Err(format!("there is no setting '{key}'"));
    }
    if value.trim().is_empty() {
        return Err(format!("give a value for {key}"));
    }
    let mut changed = base.clone();
    apply_setting(&mut changed, key, value).map_err(|e| format!("{key} = '{}': {}", value.trim(), e.message))?;
    if let Some(problem) = changed.validate().first() {
        return Err(format!("with {key} = '{}' the design does not work: {problem}", value.trim()));
    }
    if &changed == base {
        return Err(format!("{key} is already {} in your design, so the variant would be the same", value.trim()));
    }
    Ok(changed)
}

/// Ready-made variants of a design, as (what, key, value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VariantExample {
    /// The other of round robin and least connections.
    OtherAlgorithm(Algorithm),
    /// The first web server four times slower than it is.
    SlowFirstServer,
    /// Half as much traffic again.
    MoreTraffic,
}

/// Each example's key and value for a design.
pub fn variant_examples(base: &Scenario) -> Vec<(VariantExample, &'static str, String)> {
    let other = match base.balancer.algorithm {
        Algorithm::Leastconn => Algorithm::Roundrobin,
        _ => Algorithm::Leastconn,
    };
    let mut examples = Vec::new();
    if base.balancer.enabled && base.web.servers.len() > 1 {
        examples.push((VariantExample::OtherAlgorithm(other), "balancer.algorithm", other.name().to_string()));
    }
    let times: Vec<String> = base
        .web
        .servers
        .iter()
        .enumerate()
        .map(|(i, w)| (if i == 0 { w.service_time_ms * 4.0 } else { w.service_time_ms }).min(600_000.0).to_string())
        .collect();
    examples.push((VariantExample::SlowFirstServer, "web.service_time_ms", times.join(",")));
    let rate = (base.traffic.arrival_rate_per_s * 1.5).min(100_000.0);
    examples.push((VariantExample::MoreTraffic, "traffic.arrival_rate_per_s", rate.to_string()));
    examples
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::preset;

    #[test]
    fn a_variant_changes_one_setting_and_names_what_was_typed_when_it_cannot() {
        let base = preset("three-server").expect("preset");
        let v = variant(&base, "balancer.algorithm", "leastconn").expect("a variant");
        assert_eq!(v.balancer.algorithm, Algorithm::Leastconn);
        assert_eq!(Scenario { balancer: base.balancer.clone(), ..v.clone() }, base, "nothing else changed");
        let refused = [
            ("balancer.algorithm", "fastest", "'fastest' is not allowed"),
            ("traffic.arrival_rate_per_s", "1e9", "'1e9': 1000000000 is out of range"),
            ("web.service_time_ms", "80,20,20", "'80,20,20' lists 3 values for 2 web servers"),
            ("no.such.key", "1", "there is no setting 'no.such.key'"),
            ("seed", "7", "the seed is not a setting to vary"),
            ("web.workers", " ", "give a value for web.workers"),
            ("balancer.algorithm", "roundrobin", "already roundrobin in your design"),
            // Valid alone, but the design then has no replica to read from.
            ("db.replicas", "0", "with db.replicas = '0' the design does not work"),
        ];
        for (key, value, says) in refused {
            let message = variant(&base, key, value).expect_err(key);
            assert!(message.contains(says), "{key} = {value:?}: {message}");
        }
    }

    #[test]
    fn the_examples_are_valid_variants_of_the_course_designs() {
        for name in ["single-server", "three-server", "scale-up", "queue-lab"] {
            let base = preset(name).expect("preset");
            for (example, key, value) in variant_examples(&base) {
                let v = variant(&base, key, &value).unwrap_or_else(|e| panic!("{name}: {example:?}: {e}"));
                if example == VariantExample::SlowFirstServer {
                    assert_eq!(v.web.servers[0].service_time_ms, 4.0 * base.web.servers[0].service_time_ms, "{name}");
                    assert_eq!(v.web.servers[1..], base.web.servers[1..], "{name}: only web1 is slower");
                }
            }
        }
        let single = preset("single-server").expect("preset");
        assert!(
            !variant_examples(&single).iter().any(|(e, _, _)| matches!(e, VariantExample::OtherAlgorithm(_))),
            "one server behind no balancer has no algorithm to change"
        );
    }

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
