//! Faults as the batch runner's `--fault` spells them: `TIME:ACTION:TARGET`.

use crate::sim::node::Link;
use crate::sim::time::from_s;
use crate::sim::{Command, CommandKind, NodeId};

/// `30s:kill:web1`, `1500ms:slow=4:db1`, `20:cut:lb1-lb2` (a bare number is seconds).
pub fn parse_fault(text: &str) -> Result<Command, String> {
    let mut parts = text.splitn(3, ':');
    let (Some(time), Some(action), Some(target)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected TIME:ACTION:TARGET, e.g. 30s:kill:web1".into());
    };
    // What was typed, as messages quote it (control characters escaped, long text cut).
    let (time_text, action_text, target_text) = (shown(time), shown(action), shown(target));
    let seconds: f64 = if let Some(ms) = time.strip_suffix("ms") {
        ms.parse::<f64>().map(|v| v / 1_000.0)
    } else {
        time.strip_suffix('s').unwrap_or(time).parse::<f64>()
    }
    .map_err(|_| format!("'{time_text}' is not a time; write 30s or 1500ms"))?;
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err(format!("'{time_text}' is not a time; write 30s or 1500ms"));
    }
    let node = || {
        NodeId::parse(target).ok_or_else(|| {
            format!(
                "'{target_text}' is not a node; nodes are lb1, lb2, web1..webN, db1..dbN, dns, keepalived1, keepalived2 (or name a machine: server1)"
            )
        })
    };
    // A target that is no node but could be a machine's id names a machine (`server1`);
    // whether the design has it is checked when the command is applied. Anything else gets
    // the node message (`web+1` is a mistyped node, not a machine).
    let machine = || match NodeId::parse(target) {
        Some(_) => None,
        None if looks_like_a_node(target) => None,
        None => crate::sim::command::machine_id(target.to_string()).ok(),
    };
    // `keepalived1`: keepalived alone, beside lb1 (whether the design has it is checked when
    // the command is applied).
    if let Some(lb) = keepalived_target(target) {
        let lb = lb?;
        let what = match action {
            "kill" => CommandKind::KillKeepalived { lb },
            "stop" => CommandKind::StopKeepalived { lb },
            "restore" => CommandKind::RestoreKeepalived { lb },
            _ => {
                return Err(format!(
                    "'{target_text}' is keepalived: it can be killed, stopped or restored, not '{action_text}'"
                ))
            }
        };
        return Ok(Command { at_us: from_s(seconds), what });
    }
    let link =
        || Link::parse(target).ok_or_else(|| format!("'{target_text}' is not a link; write two nodes like lb1-lb2"));
    let what = match action {
        "kill" => match machine() {
            Some(machine) => CommandKind::KillMachine { machine },
            None => CommandKind::Kill { node: node()? },
        },
        "stop" => CommandKind::Stop { node: node()? },
        "restore" => match machine() {
            Some(machine) => CommandKind::RestoreMachine { machine },
            None => CommandKind::Restore { node: node()? },
        },
        "rebuild" => CommandKind::Rebuild { node: node()? },
        "deploy" => match target {
            "all" => CommandKind::Deploy { rolling: false },
            "rolling" => CommandKind::Deploy { rolling: true },
            _ => return Err(format!("'{target_text}': a deploy is deploy:all (every application server at once) or deploy:rolling (one at a time)")),
        },
        "cut" => CommandKind::Cut { link: link()? },
        "heal" => CommandKind::Heal { link: link()? },
        a if a.starts_with("slow=") => {
            let factor: f64 = a[5..].parse().map_err(|_| format!("'{action_text}': write slow=FACTOR, e.g. slow=4"))?;
            match machine() {
                Some(machine) => CommandKind::SlowMachine { machine, factor },
                None => CommandKind::Slow { node: node()?, factor },
            }
        }
        _ => {
            return Err(format!(
                "'{action_text}' is not an action; allowed kill, stop, restore, rebuild, slow=FACTOR, cut, heal"
            ))
        }
    };
    Ok(Command { at_us: from_s(seconds), what })
}

/// `keepalived1` → Some(Ok(0)); `keepalived3` → Some(Err(..)); anything else → None.
fn keepalived_target(text: &str) -> Option<Result<u8, String>> {
    let digits = text.strip_prefix("keepalived")?;
    let n = crate::scenario::parse_index(digits)?;
    let most = crate::sim::command::MAX_KEEPALIVED as usize;
    Some(if n <= most {
        Ok(n as u8 - 1)
    } else {
        Err(format!("'{}' is not part of any design: a pair of balancers has keepalived1 and keepalived2", shown(text)))
    })
}

fn shown(text: &str) -> String {
    crate::scenario::machines::shown_text(text)
}

/// A node's kind followed by digits (`web01`, `db0`, `app2`): a mistyped or absent node, never
/// meant as a machine's id.
fn looks_like_a_node(text: &str) -> bool {
    let digits_at = text.find(|c: char| c.is_ascii_digit()).unwrap_or(text.len());
    let (letters, digits) = text.split_at(digits_at);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && crate::scenario::machines::ComponentKind::ALL.iter().any(|k| k.prefix() == letters)
}
