//! The Consul answers the check reads (api contract 6): gossip members,
//! the catalog's datacenters and the agent's own description. Every field
//! defaults, so an older or newer agent still reads.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cli_common::consul::ConsulClient;
use cli_common::http::{HttpError, Request};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

/// One gossip member (`GET /v1/agent/members[?wan=1]`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct Member {
    /// `<node>.<datacenter>` in the WAN pool, the node name in the LAN pool.
    pub name: String,
    /// The gossip address (an IP).
    pub addr: String,
    /// The gossip port (8302 WAN, 8301 LAN).
    pub port: u16,
    /// `dc`, `role`, `port`, … (all strings).
    pub tags: BTreeMap<String, String>,
    /// Serf status: 0 none, 1 alive, 2 leaving, 3 left, 4 failed.
    pub status: Value,
}

/// Serf status `alive`.
pub const ALIVE: u64 = 1;
/// Serf status `failed`.
pub const FAILED: u64 = 4;

impl Member {
    /// The status as a number (a string holding a number is accepted too);
    /// `None` when it is neither.
    pub fn status_code(&self) -> Option<u64> {
        match &self.status {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The status as `consul members` prints it: none, alive, leaving,
    /// left, failed (or `unknown`).
    pub fn status_word(&self) -> &'static str {
        match self.status_code() {
            Some(0) => "none",
            Some(1) => "alive",
            Some(2) => "leaving",
            Some(3) => "left",
            Some(4) => "failed",
            _ => "unknown",
        }
    }

    /// Whether the member is alive.
    pub fn is_alive(&self) -> bool {
        self.status_code() == Some(ALIVE)
    }

    /// The member's datacenter: tag `dc`, else the part of the name after
    /// the last dot.
    pub fn datacenter(&self) -> String {
        match self.tags.get("dc").filter(|dc| !dc.is_empty()) {
            Some(dc) => dc.clone(),
            None => self
                .name
                .rsplit_once('.')
                .map(|(_, dc)| dc.to_string())
                .unwrap_or_default(),
        }
    }

    /// `addr:port` (`[addr]:port` for IPv6), as `consul members` prints it.
    pub fn address(&self) -> String {
        if self.addr.contains(':') {
            format!("[{}]:{}", self.addr, self.port)
        } else {
            format!("{}:{}", self.addr, self.port)
        }
    }
}

/// `GET /v1/agent/self` (upper-case top-level keys).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AgentSelf {
    /// The agent's configuration summary.
    pub config: SelfConfig,
    /// The full runtime configuration (read for the WAN advertise address).
    pub debug_config: BTreeMap<String, Value>,
    /// The agent's LAN member (`null` before it joined its own pool).
    pub member: Option<Member>,
    /// Runtime statistics (read for `serf_wan.encrypted`).
    pub stats: BTreeMap<String, BTreeMap<String, Value>>,
}

/// `Config` of `/v1/agent/self`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SelfConfig {
    /// The agent's datacenter.
    pub datacenter: String,
    /// The agent's node name.
    pub node_name: String,
    /// Whether the agent is a server.
    pub server: bool,
}

impl AgentSelf {
    /// Whether gossip is encrypted: `Stats.serf_wan.encrypted` (else
    /// `serf_lan`), else whether `DebugConfig.EncryptKey` is set (real
    /// agents show it as `hidden`); `None` when the agent does not say.
    pub fn gossip_encrypted(&self) -> Option<bool> {
        let from_stats = ["serf_wan", "serf_lan"].iter().find_map(|pool| {
            match self.stats.get(*pool)?.get("encrypted")? {
                Value::Bool(b) => Some(*b),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
        });
        from_stats.or_else(|| {
            let key = self.debug_config.get("EncryptKey")?.as_str()?;
            Some(!key.is_empty())
        })
    }

    /// The address the agent advertises to the WAN pool, from
    /// `DebugConfig` (`AdvertiseAddrWAN`, then `SerfAdvertiseAddrWAN`),
    /// without scheme or port.
    pub fn wan_address(&self) -> Option<String> {
        ["AdvertiseAddrWAN", "SerfAdvertiseAddrWAN"]
            .iter()
            .filter_map(|key| self.debug_config.get(*key)?.as_str())
            .map(host_of)
            .find(|host| !host.is_empty())
    }
}

/// The host of `scheme://host:port`, `host:port`, `[v6]:port` or `host`.
pub fn host_of(address: &str) -> String {
    let rest = address
        .split_once("://")
        .map_or(address, |(_, rest)| rest)
        .trim();
    if let Some(inner) = rest.strip_prefix('[') {
        return inner.split(']').next().unwrap_or_default().to_string();
    }
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host.to_string()
        }
        _ => rest.to_string(),
    }
}

/// Shortest read timeout given to a request near the deadline.
const MIN_READ_TIMEOUT: Duration = Duration::from_millis(500);

/// Reads one agent's endpoints; with a deadline, no request waits for its
/// answer much beyond it (a hung agent times out, exit 5).
#[derive(Debug, Clone, Copy)]
pub struct Api<'a> {
    client: &'a ConsulClient,
    deadline: Option<Instant>,
}

impl<'a> Api<'a> {
    /// Reads through `client`, answers bounded by `deadline` when given.
    pub fn new(client: &'a ConsulClient, deadline: Option<Instant>) -> Api<'a> {
        Api { client, deadline }
    }

    fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, HttpError> {
        let mut request = Request::get(path).queries(query);
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            request = request.read_timeout(left.max(MIN_READ_TIMEOUT));
        }
        let response = self.client.send(request)?;
        serde_json::from_slice(&response.body)
            .map_err(|e| HttpError::Decode(format!("GET {path}: unexpected answer: {e}")))
    }

    /// `GET /v1/agent/self`.
    pub fn agent_self(&self) -> Result<AgentSelf, HttpError> {
        self.get("/v1/agent/self", &[])
    }

    /// `GET /v1/agent/members?wan=1`: `None` when the agent answers `null`
    /// (a client agent has no WAN pool).
    pub fn wan_members(&self) -> Result<Option<Vec<Member>>, HttpError> {
        self.get("/v1/agent/members", &[("wan", "1")])
    }

    /// `GET /v1/agent/members` (the LAN pool of the agent's datacenter).
    pub fn lan_members(&self) -> Result<Vec<Member>, HttpError> {
        self.get::<Option<Vec<Member>>>("/v1/agent/members", &[])
            .map(Option::unwrap_or_default)
    }

    /// `GET /v1/catalog/datacenters`.
    pub fn datacenters(&self) -> Result<Vec<String>, HttpError> {
        self.get::<Option<Vec<String>>>("/v1/catalog/datacenters", &[])
            .map(Option::unwrap_or_default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_members_read() {
        let text = r#"[{"Name":"foobar.dc1","Addr":"10.1.10.12","Port":8302,
            "Tags":{"dc":"dc1","role":"consul"},"Status":1},
            {"Name":"qux.dc3","Addr":"10.3.10.13","Port":8302,"Tags":{},"Status":4}]"#;
        let members: Vec<Member> = serde_json::from_str(text).unwrap();
        assert_eq!(members[0].status_word(), "alive");
        assert_eq!(members[0].datacenter(), "dc1");
        assert_eq!(members[0].address(), "10.1.10.12:8302");
        assert_eq!(members[1].status_word(), "failed");
        assert_eq!(members[1].datacenter(), "dc3");
    }

    #[test]
    fn agent_self_reads_with_a_null_member_and_encryption() {
        let text = r#"{"Config":{"Datacenter":"dc1","NodeName":"n","Server":true},
            "DebugConfig":{"AdvertiseAddrWAN":"tcp://34.1.2.3:8302","EncryptKey":"hidden"},
            "Member":null,"Stats":{"consul":{"server":"true"}}}"#;
        let agent: AgentSelf = serde_json::from_str(text).unwrap();
        assert!(agent.config.server && agent.member.is_none());
        assert_eq!(agent.gossip_encrypted(), Some(true));
        assert_eq!(agent.wan_address().as_deref(), Some("34.1.2.3"));
        let fixture: AgentSelf = serde_json::from_str(
            r#"{"Config":{"Datacenter":"dc1","Server":true},"Meta":{"a":"b"},"Coord":{}}"#,
        )
        .unwrap();
        assert_eq!(fixture.gossip_encrypted(), None);
    }

    #[test]
    fn hosts_of_addresses() {
        assert_eq!(host_of("tcp://10.0.0.1:8302"), "10.0.0.1");
        assert_eq!(host_of("10.0.0.1"), "10.0.0.1");
        assert_eq!(host_of("[fd00::1]:8302"), "fd00::1");
        assert_eq!(host_of("fd00::1"), "fd00::1");
    }
}
