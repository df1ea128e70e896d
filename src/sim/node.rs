//! Names of the things in the model, as the page, the trace and the batch runner spell them.

use serde::Serialize;
use std::fmt;

/// A node of the infrastructure. Web servers and database nodes are numbered from 0 here and
/// shown from 1 (`web1`, `db1`); `db1` is the initial primary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum NodeId {
    Clients,
    Dns,
    Lb(u8),
    Web(u16),
    Db(u8),
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeId::Clients => write!(f, "clients"),
            NodeId::Dns => write!(f, "dns"),
            NodeId::Lb(i) => write!(f, "lb{}", i + 1),
            NodeId::Web(i) => write!(f, "web{}", i + 1),
            NodeId::Db(i) => write!(f, "db{}", i + 1),
        }
    }
}

impl NodeId {
    /// Parse `lb1`, `web3`, `db2`, `dns`, `clients`.
    pub fn parse(text: &str) -> Option<NodeId> {
        let number = |prefix: &str| -> Option<usize> {
            let n: usize = text.strip_prefix(prefix)?.parse().ok()?;
            n.checked_sub(1)
        };
        match text {
            "clients" => Some(NodeId::Clients),
            "dns" => Some(NodeId::Dns),
            _ => {
                if let Some(i) = number("web") {
                    u16::try_from(i).ok().map(NodeId::Web)
                } else if let Some(i) = number("lb") {
                    u8::try_from(i).ok().map(NodeId::Lb)
                } else if let Some(i) = number("db") {
                    u8::try_from(i).ok().map(NodeId::Db)
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for id in [NodeId::Clients, NodeId::Dns, NodeId::Lb(0), NodeId::Web(11), NodeId::Db(2)] {
            assert_eq!(NodeId::parse(&id.to_string()), Some(id));
        }
        assert_eq!(NodeId::parse("web0"), None);
        assert_eq!(NodeId::parse("web"), None);
        assert_eq!(NodeId::parse("cache1"), None);
    }
}
