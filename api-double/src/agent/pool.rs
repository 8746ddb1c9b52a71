//! One gossip pool as an agent sees it: its own member plus every member it heard of,
//! with a local failure detector (a member that has not answered for
//! [`FAILURE_TIMEOUT`](super::FAILURE_TIMEOUT) is `failed`).

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::FAILURE_TIMEOUT;

/// Which pool a gossip message belongs to (the path segment of `/gossip/<pool>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PoolKind {
    /// Nomad servers of every region (and, hidden from `/v1/agent/members`, clients).
    Nomad,
    /// A Consul datacenter's LAN pool.
    Lan,
    /// The Consul WAN pool (servers only).
    Wan,
}

impl PoolKind {
    pub(crate) fn path(self) -> &'static str {
        match self {
            PoolKind::Nomad => "nomad",
            PoolKind::Lan => "lan",
            PoolKind::Wan => "wan",
        }
    }

    pub(crate) fn from_path(s: &str) -> Option<Self> {
        match s {
            "nomad" => Some(PoolKind::Nomad),
            "lan" => Some(PoolKind::Lan),
            "wan" => Some(PoolKind::Wan),
            _ => None,
        }
    }
}

/// A member's state in one agent's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Alive,
    Failed,
    Left,
}

impl Status {
    /// Nomad's string form.
    pub(crate) fn nomad(self) -> &'static str {
        match self {
            Status::Alive => "alive",
            Status::Failed => "failed",
            Status::Left => "left",
        }
    }

    /// Consul's integer form (serf member status).
    pub(crate) fn consul(self) -> u8 {
        match self {
            Status::Alive => 1,
            Status::Failed => 4,
            Status::Left => 3,
        }
    }
}

/// One member of a pool.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub name: String,
    pub addr: String,
    pub port: u16,
    pub tags: BTreeMap<String, String>,
    /// Newer incarnations replace older ones (a restarted agent starts higher).
    pub incarnation: u64,
    pub left: bool,
    /// Last successful direct exchange (or first news of the member).
    pub last_seen: Instant,
}

impl Member {
    /// `addr:port`, bracketed for IPv6.
    pub(crate) fn gossip_addr(&self) -> String {
        join_host_port(&self.addr, self.port)
    }

    /// `addr:<HTTP port>` from the hidden [`HTTP_TAG`], if the member advertises one.
    pub(crate) fn http_addr(&self) -> Option<String> {
        let port: u16 = self.tag(HTTP_TAG).parse().ok()?;
        Some(join_host_port(&self.addr, port))
    }

    /// A tag's value, or `""`.
    pub(crate) fn tag(&self, key: &str) -> &str {
        self.tags.get(key).map_or("", String::as_str)
    }

    fn wire(&self) -> Value {
        json!({
            "name": self.name, "addr": self.addr, "port": self.port, "tags": self.tags,
            "incarnation": self.incarnation, "left": self.left,
        })
    }

    fn from_wire(v: &Value, now: Instant) -> Option<Self> {
        let tags = v
            .get("tags")?
            .as_object()?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        Some(Self {
            name: v.get("name")?.as_str()?.to_string(),
            addr: v.get("addr")?.as_str()?.to_string(),
            port: u16::try_from(v.get("port")?.as_u64()?).ok()?,
            tags,
            incarnation: v.get("incarnation")?.as_u64()?,
            left: v.get("left").and_then(Value::as_bool).unwrap_or(false),
            last_seen: now,
        })
    }

    /// The member as the HTTP APIs show it; `status` is Nomad's string or Consul's integer.
    pub(crate) fn render(&self, status: Value) -> Value {
        let tags: Map<String, Value> = self
            .tags
            .iter()
            .filter(|(k, _)| !is_hidden_tag(k))
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({
            "Name": self.name, "Addr": self.addr, "Port": self.port, "Tags": tags,
            "Status": status, "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
            "DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4,
        })
    }
}

/// Tags the double gossips for itself and never shows in a member list: client node
/// metadata (`meta.<k>`), the agent's HTTP port (`x.http`) and a Consul agent's
/// registered services (`svc.<id>`).
pub(crate) fn is_hidden_tag(key: &str) -> bool {
    ["meta.", "x.", "svc."].iter().any(|p| key.starts_with(p))
}

/// Tag carrying an agent's HTTP port (hidden from member lists).
pub(crate) const HTTP_TAG: &str = "x.http";
/// Tag carrying when a Nomad server started (microseconds since the epoch; hidden).
pub(crate) const SINCE_TAG: &str = "x.since";

/// `host:port`, bracketing IPv6 hosts.
pub(crate) fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// One agent's view of one pool.
#[derive(Debug)]
pub(crate) struct Pool {
    /// A Consul LAN pool: members of other datacenters are refused.
    pub lan: bool,
    /// The agent's own member (always alive in its own view).
    pub me: Member,
    /// Every other member heard of, by name.
    pub others: BTreeMap<String, Member>,
    /// `retry_join` addresses still to join (cleared after the first success).
    pub retry: Vec<String>,
    /// Gossip encryption key: peers with another key cannot exchange.
    pub key: Option<String>,
}

impl Pool {
    /// A member's status in this view at `now`.
    pub(crate) fn status_of(&self, m: &Member, now: Instant) -> Status {
        if m.name == self.me.name {
            Status::Alive
        } else if m.left {
            Status::Left
        } else if now.saturating_duration_since(m.last_seen) > FAILURE_TIMEOUT {
            Status::Failed
        } else {
            Status::Alive
        }
    }

    /// Every member with its status, sorted by name.
    pub(crate) fn members(&self) -> Vec<(Member, Status)> {
        let now = Instant::now();
        let mut all: Vec<(Member, Status)> = std::iter::once(&self.me)
            .chain(self.others.values())
            .map(|m| (m.clone(), self.status_of(m, now)))
            .collect();
        all.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        all
    }

    /// Addresses to gossip with: every member that did not leave.
    pub(crate) fn targets(&self) -> Vec<String> {
        self.others
            .values()
            .filter(|m| !m.left)
            .map(Member::gossip_addr)
            .collect()
    }

    /// The gossip message: sender name, key and member list.
    pub(crate) fn wire(&self) -> Value {
        let members: Vec<Value> = std::iter::once(&self.me)
            .chain(self.others.values())
            .map(Member::wire)
            .collect();
        json!({"from": self.me.name, "key": self.key, "members": members})
    }

    /// Whether a message was sealed with this pool's key.
    pub(crate) fn key_matches(&self, msg: &Value) -> bool {
        msg.get("key").and_then(Value::as_str) == self.key.as_deref()
    }

    /// For a LAN pool, why a message from another datacenter is refused (Consul's
    /// merge-delegate text).
    pub(crate) fn foreign_datacenter(&self, msg: &Value) -> Option<String> {
        if !self.lan {
            return None;
        }
        let dc = self.me.tag("dc");
        let list = msg.get("members").and_then(Value::as_array)?;
        list.iter().find_map(|m| {
            let theirs = m.get("tags")?.get("dc")?.as_str()?;
            let name = m.get("name")?.as_str()?;
            (theirs != dc).then(|| format!("Member '{name}' part of wrong datacenter '{theirs}'"))
        })
    }

    /// Merges a peer's message (newest incarnation wins); the sender, who just answered
    /// or called, is alive.
    pub(crate) fn merge(&mut self, msg: &Value) {
        let now = Instant::now();
        let list = msg.get("members").and_then(Value::as_array);
        for m in list.into_iter().flatten() {
            let Some(m) = Member::from_wire(m, now) else {
                continue;
            };
            if m.name == self.me.name {
                continue;
            }
            match self.others.get_mut(&m.name) {
                None => {
                    self.others.insert(m.name.clone(), m);
                }
                Some(known) if m.incarnation > known.incarnation => {
                    let seen = if m.left { known.last_seen } else { now };
                    *known = Member {
                        last_seen: seen,
                        ..m
                    };
                }
                Some(known) if m.incarnation == known.incarnation && m.left => {
                    known.left = true;
                }
                Some(_) => {}
            }
        }
        let from = msg.get("from").and_then(Value::as_str).unwrap_or_default();
        if let Some(sender) = self.others.get_mut(from) {
            sender.last_seen = now;
        }
    }
}
