//! From what the agent says to a verdict: the report printed on stdout and
//! the reasons the federation is not healthy yet.

use cli_common::http::HttpError;
use serde::Serialize;

use crate::api::{Api, Member, FAILED};

/// What must hold for the federation to be healthy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// Datacenters that must be federated. The agent's own is always
    /// added; when empty, every datacenter the catalog lists is expected.
    pub datacenters: Vec<String>,
    /// Alive servers needed per expected datacenter (at least 1).
    pub servers_per_dc: usize,
    /// Alive LAN members needed in the agent's datacenter (`--expect-lan`).
    pub lan: Option<usize>,
}

/// One observation of the agent.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The agent's datacenter.
    pub own_dc: String,
    /// `false` when the agent is a client (`Config.Server` false or WAN
    /// members `null`).
    pub is_server: bool,
    /// `/v1/catalog/datacenters`.
    pub catalog: Vec<String>,
    /// `/v1/agent/members?wan=1` (empty on a client).
    pub wan: Vec<Member>,
    /// `/v1/agent/members`, read only with `--expect-lan`.
    pub lan: Option<Vec<Member>>,
}

impl Snapshot {
    /// Reads the WAN pool, the catalog and (when `lan`) the LAN pool.
    pub fn observe(
        api: &Api<'_>,
        own_dc: &str,
        agent_is_server: bool,
        lan: bool,
    ) -> Result<Snapshot, HttpError> {
        let wan = if agent_is_server {
            api.wan_members()?
        } else {
            None
        };
        Ok(Snapshot {
            own_dc: own_dc.to_string(),
            is_server: agent_is_server && wan.is_some(),
            catalog: api.datacenters()?,
            wan: wan.unwrap_or_default(),
            lan: if lan { Some(api.lan_members()?) } else { None },
        })
    }
}

/// A member as printed: `status` is a word (alive, leaving, left, failed,
/// none).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MemberReport {
    /// `<node>.<datacenter>` (WAN) or the node name (LAN).
    pub name: String,
    /// `addr:port` of its gossip.
    pub address: String,
    /// Its datacenter.
    pub datacenter: String,
    /// alive, leaving, left, failed or none.
    pub status: String,
}

impl MemberReport {
    /// A WAN member: its datacenter is tag `dc`, else the name's suffix.
    pub fn wan(m: &Member) -> MemberReport {
        MemberReport {
            name: m.name.clone(),
            address: m.address(),
            datacenter: m.datacenter(),
            status: m.status_word().to_string(),
        }
    }

    /// A LAN member: its datacenter is tag `dc`, else the agent's own (LAN
    /// names carry no datacenter suffix).
    pub fn lan(m: &Member, own_dc: &str) -> MemberReport {
        let datacenter = m
            .tags
            .get("dc")
            .filter(|dc| !dc.is_empty())
            .map_or(own_dc, String::as_str);
        MemberReport {
            datacenter: datacenter.to_string(),
            ..MemberReport::wan(m)
        }
    }
}

/// The JSON printed on stdout.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    /// What `/v1/catalog/datacenters` lists.
    pub datacenters: Vec<String>,
    /// The WAN pool, sorted by datacenter then name.
    pub members: Vec<MemberReport>,
    /// Expected datacenters not in the catalog or without enough alive
    /// servers.
    pub missing_datacenters: Vec<String>,
    /// Names of WAN members whose status is `failed`.
    pub failed_members: Vec<String>,
    /// What breaks WAN federation in practice (also printed on stderr).
    pub warnings: Vec<String>,
    /// Whether every expectation holds.
    pub healthy: bool,
    /// The LAN pool of the agent's datacenter, with `--expect-lan`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lan_members: Option<Vec<MemberReport>>,
}

/// A report and, when unhealthy, why.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// What is printed.
    pub report: Report,
    /// One line per unmet expectation (empty when healthy).
    pub reasons: Vec<String>,
    /// The WAN pool observed (what the warnings read).
    pub wan: Vec<Member>,
}

fn sorted(mut out: Vec<MemberReport>) -> Vec<MemberReport> {
    out.sort_by(|a, b| (&a.datacenter, &a.name).cmp(&(&b.datacenter, &b.name)));
    out
}

/// The datacenters to check: the expected ones (or the catalog's when
/// none are), plus the agent's own.
fn expected_datacenters(snapshot: &Snapshot, expect: &Expectations) -> Vec<String> {
    let mut dcs: Vec<String> = if expect.datacenters.is_empty() {
        snapshot.catalog.clone()
    } else {
        expect.datacenters.clone()
    };
    if !snapshot.own_dc.is_empty() && !dcs.contains(&snapshot.own_dc) {
        dcs.insert(0, snapshot.own_dc.clone());
    }
    dcs
}

/// Why datacenter `dc` is not federated, if it is not.
fn datacenter_problem(snapshot: &Snapshot, dc: &str, needed: usize) -> Option<String> {
    let servers: Vec<&Member> = snapshot
        .wan
        .iter()
        .filter(|m| m.datacenter() == dc)
        .collect();
    let alive = servers.iter().filter(|m| m.is_alive()).count();
    let in_catalog = snapshot.catalog.iter().any(|c| c == dc);
    if alive >= needed && in_catalog {
        return None;
    }
    let mut why = format!("datacenter {dc}: {alive} alive WAN server(s), {needed} needed");
    let down: Vec<String> = servers
        .iter()
        .filter(|m| !m.is_alive())
        .map(|m| format!("{} {}", m.name, m.status_word()))
        .collect();
    if !down.is_empty() {
        why.push_str(&format!(" ({})", down.join(", ")));
    }
    if !in_catalog {
        why.push_str("; not in /v1/catalog/datacenters");
    }
    Some(why)
}

/// Judges a snapshot against the expectations.
pub fn evaluate(snapshot: &Snapshot, expect: &Expectations) -> Verdict {
    let mut reasons = Vec::new();
    let mut missing = Vec::new();
    if !snapshot.is_server {
        reasons.push(format!(
            "the agent (datacenter {}) is not a server: it has no WAN pool; point --http-addr at a Consul server",
            snapshot.own_dc
        ));
    } else {
        for dc in expected_datacenters(snapshot, expect) {
            if let Some(why) = datacenter_problem(snapshot, &dc, expect.servers_per_dc.max(1)) {
                reasons.push(why);
                missing.push(dc);
            }
        }
    }
    if let (Some(needed), Some(lan)) = (expect.lan, &snapshot.lan) {
        let alive = lan
            .iter()
            .filter(|m| {
                m.is_alive() && MemberReport::lan(m, &snapshot.own_dc).datacenter == snapshot.own_dc
            })
            .count();
        if alive < needed {
            reasons.push(format!(
                "datacenter {}: {alive} alive LAN member(s), {needed} needed",
                snapshot.own_dc
            ));
        }
    }
    let failed = snapshot
        .wan
        .iter()
        .filter(|m| m.status_code() == Some(FAILED))
        .map(|m| m.name.clone())
        .collect();
    let report = Report {
        datacenters: snapshot.catalog.clone(),
        members: sorted(snapshot.wan.iter().map(MemberReport::wan).collect()),
        missing_datacenters: missing,
        failed_members: failed,
        warnings: Vec::new(),
        healthy: reasons.is_empty(),
        lan_members: snapshot.lan.as_ref().map(|lan| {
            sorted(
                lan.iter()
                    .map(|m| MemberReport::lan(m, &snapshot.own_dc))
                    .collect(),
            )
        }),
    };
    Verdict {
        report,
        reasons,
        wan: snapshot.wan.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn member(name: &str, dc: &str, status: u64) -> Member {
        Member {
            name: name.into(),
            addr: "10.0.0.1".into(),
            port: 8302,
            tags: BTreeMap::from([("dc".to_string(), dc.to_string())]),
            status: status.into(),
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            own_dc: "dc1".into(),
            is_server: true,
            catalog: vec!["dc1".into(), "dc2".into(), "dc3".into()],
            wan: vec![
                member("a.dc1", "dc1", 1),
                member("b.dc2", "dc2", 1),
                member("c.dc2", "dc2", 3),
                member("d.dc3", "dc3", 4),
            ],
            lan: None,
        }
    }

    #[test]
    fn a_datacenter_all_failed_is_missing_even_in_the_catalog() {
        let v = evaluate(&snapshot(), &Expectations::default());
        assert!(!v.report.healthy);
        assert_eq!(v.report.missing_datacenters, ["dc3"]);
        assert_eq!(v.report.failed_members, ["d.dc3"]);
        assert!(v.reasons[0].contains("d.dc3 failed"), "{:?}", v.reasons);
    }

    #[test]
    fn expected_datacenters_and_server_counts() {
        let expect = Expectations {
            datacenters: vec!["dc2".into()],
            servers_per_dc: 1,
            lan: None,
        };
        assert!(evaluate(&snapshot(), &expect).report.healthy);
        let expect = Expectations {
            servers_per_dc: 2,
            ..expect
        };
        let v = evaluate(&snapshot(), &expect);
        assert_eq!(v.report.missing_datacenters, ["dc1", "dc2"]);
    }

    #[test]
    fn a_client_agent_is_not_healthy() {
        let snap = Snapshot {
            is_server: false,
            wan: vec![],
            ..snapshot()
        };
        let v = evaluate(&snap, &Expectations::default());
        assert!(!v.report.healthy);
        assert!(v.reasons[0].contains("not a server"));
    }
}
