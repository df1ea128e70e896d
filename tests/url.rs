//! A run as a link: every preset with changed settings, a seed and a command log round-trips
//! through the URL exactly; malformed links never panic and always say where the problem is.
#![cfg(not(target_arch = "wasm32"))]

use infrasim::scenario::url::{base64url_decode, base64url_encode, decode, encode, percent_decode, UrlState};
use infrasim::scenario::{preset, preset_names, Algorithm, Distribution, Replication, Scenario};
use infrasim::sim::command::NodeClass;
use infrasim::sim::node::Link;
use infrasim::sim::{Command, CommandKind, NodeId};
use rand::{Rng, SeedableRng};

fn commands() -> Vec<Command> {
    vec![
        Command { at_us: 1_000_000, what: CommandKind::SetArrivalRate { per_s: 250.5 } },
        Command { at_us: 1_500_000, what: CommandKind::SetAlgorithm { algorithm: Algorithm::Leastconn } },
        Command { at_us: 2_000_000, what: CommandKind::Kill { node: NodeId::Web(0) } },
        Command { at_us: 2_000_000, what: CommandKind::Cut { link: Link::new(NodeId::Lb(0), NodeId::Web(1)) } },
        Command { at_us: 3_250_001, what: CommandKind::SetSpeed { factor: 0.25 } },
        Command {
            at_us: 4_000_000,
            what: CommandKind::SetFailureRate { class: NodeClass::Web, mtbf_s: 30.0, mttr_s: 5.0 },
        },
        Command { at_us: 5_000_000, what: CommandKind::Pause },
    ]
}

fn changed(name: &str) -> Scenario {
    let mut s = preset(name).unwrap();
    s.traffic.arrival_rate_per_s = 123.25;
    s.traffic.write_ratio = 0.35;
    s.balancer.algorithm = Algorithm::Source;
    s.balancer.health.fall = 5;
    for w in &mut s.web.servers {
        w.workers = 7;
        w.service_distribution = Distribution::Lognormal;
    }
    if let Some(last) = s.web.servers.last_mut() {
        last.weight = 3;
    }
    // A design without a balancer has one web server (DNS points at it).
    if s.balancer.enabled {
        s.web.servers.push(s.web.servers[0].clone());
    }
    s.network.dns_ttl_s = 0.5;
    s
}

#[test]
fn every_preset_with_changed_settings_seed_and_commands_round_trips() {
    for name in preset_names() {
        for scenario in [preset(name).unwrap(), changed(name)] {
            let mut scenario = scenario;
            scenario.seed = 0xDEAD_BEEF_1234;
            let state = UrlState {
                preset: name.to_string(),
                scenario: scenario.clone(),
                speed: Some(2.5),
                step: Some(3),
                embed: true,
                at_us: Some(6_000_000),
                commands: commands(),
            };
            let query = encode(&state);
            assert!(!query.contains("scenario="), "{name}: every change has a key, so the link is readable: {query}");
            let back = decode(&query).unwrap_or_else(|p| panic!("{name}: {p:?} from {query}"));
            assert_eq!(back, state, "{name}: {query}");
            // With a leading `?`, as in `location.search`.
            assert_eq!(decode(&format!("?{query}")).unwrap(), state);
        }
    }
}

#[test]
fn the_readable_form_names_only_what_differs() {
    let mut s = preset("three-server").unwrap();
    s.balancer.algorithm = Algorithm::Leastconn;
    s.db.replication = Replication::Semisync;
    s.seed = 42;
    let query = encode(&UrlState::new("three-server", s));
    assert_eq!(query, "v=3&preset=three-server&balancer.algorithm=leastconn&db.replication=semisync&seed=42");
    let plain = encode(&UrlState::default());
    assert_eq!(plain, "v=3&preset=three-server&seed=1");
    assert_eq!(decode("").unwrap(), UrlState::default());
}

#[test]
fn settings_without_a_key_fall_back_to_the_compact_scenario() {
    let mut s = preset("high-availability").unwrap();
    s.web.servers[1].service_time_ms = 80.0; // one slow server: no key says that
    s.name = "my lab".into();
    s.seed = 9;
    let state = UrlState { commands: commands(), ..UrlState::new("high-availability", s) };
    let query = encode(&state);
    assert!(query.contains("scenario="), "{query}");
    assert_eq!(decode(&query).unwrap(), state);
}

#[test]
fn hand_written_links_read_as_expected() {
    let state =
        decode("preset=queue-lab&traffic.arrival_rate_per_s=180&web.count=3&web.weights=1,2,3&seed=7&speed=0.5")
            .unwrap();
    assert_eq!(state.preset, "queue-lab");
    assert_eq!(state.scenario.traffic.arrival_rate_per_s, 180.0);
    assert_eq!(state.scenario.web.servers.iter().map(|w| w.weight).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(state.scenario.seed, 7);
    assert_eq!(state.speed, Some(0.5));
    assert_eq!(state.target_us(), 0);
    // Percent escapes and `+` decode.
    assert_eq!(percent_decode("a%2Cb+c").unwrap(), "a,b c");
}

#[test]
fn every_problem_in_a_bad_link_is_listed_with_its_path() {
    let bad_cmds = base64url_encode(br#"[{"at_us":5,"what":{"kill":{"node":"cache9"}}},{"at_us":"soon","what":"pause"},{"at_us":9,"what":{"set_write_ratio":{"ratio":7}}}]"#);
    let newer = base64url_encode(br#"{"version":99,"traffic":{"write_ratio":"half"}}"#);
    let query = format!(
        "v=99&preset=three-server&colour=blue&traffic.arrival_rate_per_s=-4&balancer.algorithm=fastest&seed=x&speed=0&step=0&embed=maybe&cmds={bad_cmds}&scenario={newer}&t=oops"
    );
    let problems = decode(&query).unwrap_err();
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    for expected in [
        "v",
        "colour",
        "traffic.arrival_rate_per_s",
        "balancer.algorithm",
        "seed",
        "speed",
        "step",
        "embed",
        "cmds[0]",
        "cmds[1].at_us",
        "cmds[2].what",
        "scenario.traffic.write_ratio",
        "t",
    ] {
        assert!(paths.contains(&expected), "no problem at {expected}: {problems:#?}");
    }
    let unknown_preset = decode("preset=mainframe").unwrap_err();
    assert_eq!(unknown_preset[0].path, "preset");
    assert!(unknown_preset[0].message.contains("three-server"), "{unknown_preset:?}");
    let version = decode(&format!("scenario={}", base64url_encode(br#"{"version":2}"#))).unwrap_err();
    assert_eq!(version[0].path, "scenario.version", "{version:?}");
    assert!(version[0].message.contains("newer"), "{version:?}");
    let out_of_order = base64url_encode(br#"[{"at_us":9,"what":"pause"},{"at_us":5,"what":"resume"}]"#);
    assert_eq!(decode(&format!("cmds={out_of_order}")).unwrap_err()[0].path, "cmds[1].at_us");
    assert_eq!(decode("cmds=%%%").unwrap_err()[0].path, "cmds");
    assert_eq!(decode("cmds=ab$d").unwrap_err()[0].path, "cmds");
    assert_eq!(decode("seed=1&seed=2").unwrap_err()[0].path, "seed");
}

#[test]
fn base64url_round_trips_every_length() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for len in 0..200 {
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let text = base64url_encode(&bytes);
        assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(base64url_decode(&text).unwrap(), bytes);
    }
    assert_eq!(base64url_encode(b"hello"), "aGVsbG8");
    assert_eq!(base64url_decode("aGVsbG8=").unwrap(), b"hello");
}

/// Seeded "fuzzing": mangle good links (cut, splice, flip characters, swap values, inject
/// junk) and check that decoding never panics and that every problem names a path.
#[test]
fn a_sweep_of_malformed_links_never_panics_and_always_names_a_path() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let mut goods = Vec::new();
    for name in preset_names() {
        let mut s = changed(name);
        s.seed = rng.random();
        goods.push(encode(&UrlState { commands: commands(), ..UrlState::new(name, s.clone()) }));
        s.web.servers[0].backlog = 17;
        s.web.servers[0].service_time_ms = 3.0;
        goods.push(encode(&UrlState { commands: commands(), ..UrlState::new(name, s) }));
    }
    let junk = [
        "",
        "=",
        "&",
        "%",
        "%zz",
        "%ff%fe",
        "+",
        "==",
        "&&&",
        "preset",
        "cmds=",
        "scenario=",
        "seed=-1",
        "t=1e400",
        "web.count=0",
        "web.weights=1,,2",
        "v=999999999999",
        "step=4294967296",
        "\u{1F600}",
        "cmds=W10",
        "cmds=e30",
        "scenario=W10",
        "scenario=bnVsbA",
        "cmds=WzFd",
        "speed=NaN",
        "speed=inf",
    ];
    let mut failures = 0;
    for round in 0..4_000 {
        let base = &goods[rng.random_range(0..goods.len())];
        let mut text: Vec<char> = base.chars().collect();
        match round % 6 {
            0 => text.truncate(rng.random_range(0..text.len())),
            1 => {
                for _ in 0..rng.random_range(1..8) {
                    let i = rng.random_range(0..text.len());
                    text[i] = (rng.random_range(32u8..127)) as char;
                }
            }
            2 => {
                let i = rng.random_range(0..text.len());
                let j = junk[rng.random_range(0..junk.len())];
                text.splice(i..i, j.chars());
            }
            3 => {
                let j = junk[rng.random_range(0..junk.len())];
                text.extend(format!("&{j}").chars());
            }
            4 => {
                // Mangle the base64 payloads (cmds/scenario) in place.
                let s: String = text.iter().collect();
                if let Some(pos) = s.find("cmds=") {
                    let start = pos + 5;
                    for _ in 0..rng.random_range(1..4) {
                        let i = rng.random_range(start..text.len());
                        text[i] = b"AZaz09-_"[rng.random_range(0..8)] as char;
                    }
                }
            }
            _ => {
                let bytes: Vec<u8> = (0..rng.random_range(0..120)).map(|_| rng.random()).collect();
                text = String::from_utf8_lossy(&bytes).chars().collect();
            }
        }
        let query: String = text.into_iter().collect();
        match decode(&query) {
            Ok(state) => assert!(state.scenario.validate().is_empty(), "{query}"),
            Err(problems) => {
                failures += 1;
                assert!(!problems.is_empty(), "{query}");
                for p in &problems {
                    assert!(!p.path.is_empty() && !p.message.is_empty(), "{p:?} from {query}");
                }
            }
        }
    }
    assert!(failures > 1_000, "most mangled links are bad: {failures}");
}
