//! Names of the things in the model, as the page, the trace and the batch runner spell them.

use std::fmt;

/// A node of the infrastructure. Web servers and database nodes are numbered from 0 here and
/// shown from 1 (`web1`, `db1`); `db1` is the initial primary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeId {
    Clients,
    Dns,
    Lb(u8),
    Web(u16),
    Db(u8),
    /// An application server (`app1`): in a design that lists machines and puts it on a
    /// machine of its own, a node of its own behind Nginx's upstream; otherwise part of its web
    /// server's node (`web1` runs Nginx and hands dynamic requests to `app1` beside it).
    /// Last, so links between the older kinds keep their order (`web1-db1`).
    App(u16),
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeId::Clients => write!(f, "clients"),
            NodeId::Dns => write!(f, "dns"),
            // Widened: web65536 is Web(65535), whose `+ 1` would wrap in u16.
            NodeId::Lb(i) => write!(f, "lb{}", *i as u32 + 1),
            NodeId::Web(i) => write!(f, "web{}", *i as u32 + 1),
            NodeId::Db(i) => write!(f, "db{}", *i as u32 + 1),
            NodeId::App(i) => write!(f, "app{}", *i as u32 + 1),
        }
    }
}

impl serde::Serialize for NodeId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for NodeId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<NodeId, D::Error> {
        let text = String::deserialize(d)?;
        NodeId::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("'{text}' is not a node like web1")))
    }
}

impl NodeId {
    /// Parse `lb1`, `web3`, `db2`, `dns`, `clients`; numbers are plain (`web01`, `web+1` are not
    /// nodes).
    pub fn parse(text: &str) -> Option<NodeId> {
        let number = |prefix: &str| -> Option<usize> {
            let n = crate::scenario::parse_index(text.strip_prefix(prefix)?)?;
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
                } else if let Some(i) = number("app") {
                    u16::try_from(i).ok().map(NodeId::App)
                } else {
                    None
                }
            }
        }
    }
}

/// A network link between two nodes, stored with the lower id first (`lb1-web2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Link(pub NodeId, pub NodeId);

impl Link {
    pub fn new(a: NodeId, b: NodeId) -> Link {
        if a <= b {
            Link(a, b)
        } else {
            Link(b, a)
        }
    }

    /// Parse `lb1-lb2`, `web1-db1`, `clients-lb1`.
    pub fn parse(text: &str) -> Option<Link> {
        let (a, b) = text.split_once('-')?;
        let (a, b) = (NodeId::parse(a)?, NodeId::parse(b)?);
        (a != b).then(|| Link::new(a, b))
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

impl serde::Serialize for Link {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Link {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Link, D::Error> {
        let text = String::deserialize(d)?;
        Link::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("'{text}' is not a link like lb1-lb2")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for id in [NodeId::Clients, NodeId::Dns, NodeId::Lb(0), NodeId::Web(11), NodeId::Db(2), NodeId::App(1)] {
            assert_eq!(NodeId::parse(&id.to_string()), Some(id));
        }
        assert_eq!(NodeId::parse("web0"), None);
        assert_eq!(NodeId::parse("web01"), None);
        assert_eq!(NodeId::parse("web+1"), None);
        assert_eq!(NodeId::Web(u16::MAX).to_string(), "web65536");
        assert_eq!(NodeId::parse("web"), None);
        assert_eq!(NodeId::parse("cache1"), None);
    }
}
