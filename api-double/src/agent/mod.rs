//! Agent doubles that **federate over the network**: each [`AgentDouble`] plays one Nomad
//! agent and/or one Consul agent of a region and datacenter, on its own address.
//!
//! Every serf port is a real TCP listener speaking a tiny JSON-over-HTTP gossip protocol
//! of this double's own (`POST /gossip/<nomad|lan|wan>` with the sender's member list,
//! answered with the receiver's). A join is one such exchange, so it fails when the peer
//! is down. A background thread gossips with every known member every
//! [`GOSSIP_INTERVAL`], so membership spreads transitively; a member that has not
//! answered for [`FAILURE_TIMEOUT`] is `failed` (Nomad) / `4` (Consul) and turns alive
//! again when it answers. Each region (Nomad) and datacenter (Consul) has a leader:
//! for Nomad its longest-running alive server (ties by name), so servers that join
//! later do not take over (as with Raft, and jobs stay where they are); for Consul its
//! alive server with the lowest name.
//!
//! ```no_run
//! use api_double::agent::{AgentConfig, AgentDouble, NomadRole};
//! let a = AgentDouble::start(
//!     AgentConfig::new("eu-1", "127.0.0.21".parse().unwrap())
//!         .with_nomad(NomadRole::server("europe", "eu-west-1")),
//! ).unwrap();
//! let b = AgentDouble::start(
//!     AgentConfig::new("us-1", "127.0.0.22".parse().unwrap())
//!         .with_nomad(NomadRole::server("us", "us-east-1").with_retry_join(&["127.0.0.21"])),
//! ).unwrap();
//! // `GET {a.nomad_address()}/v1/regions` soon lists europe and us.
//! # drop((a, b));
//! ```
//!
//! Nomad clients register with a server through their `retry_join` addresses and are
//! served by the servers of their region as `GET /v1/nodes`. The `agent-double` binary
//! runs one agent from the configuration files a real agent takes
//! ([`AgentConfig::from_nomad_files`], [`AgentConfig::from_consul_files`]).
//!
//! **Jobs** (Nomad servers): register, plan, reads with blocking queries, evaluations,
//! deployments, allocations, deregister, in the scenario double's shapes. The region's
//! leader keeps them and places allocations on the region's ready client nodes by
//! datacenter and constraints; every other agent forwards job requests to it, and
//! `?region=` reaches another region's leader (see the `jobs` and `sched` modules).
//!
//! **Consul catalog**: nodes are a datacenter's LAN members; services are registered
//! with an agent (`PUT /v1/agent/service/register`) and spread by gossip; `?dc=` is
//! forwarded over the WAN (see the `catalog` module). Nomad agents with a Consul address
//! register themselves (`nomad`, `nomad-client`) and clients their running allocations'
//! services there (the `sync` module).

mod catalog;
mod config;
mod consul;
mod forward;
mod jobs;
mod net;
mod nomad;
mod pool;
mod replica;
mod sched;
mod sync;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

pub use config::DEFAULT_ACL_TOKEN;

use crate::http::{RecordedRequest, Response};
use crate::util::new_id;
use net::{Handler, Stop};
use pool::{join_host_port, Member, Pool, PoolKind};

/// How often an agent gossips with every member it knows.
pub const GOSSIP_INTERVAL: Duration = Duration::from_millis(200);
/// How long a member may go without a successful exchange before it is `failed`.
pub const FAILURE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often `retry_join` addresses are retried until one join succeeds.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// Build string the Nomad members advertise (and `nomad version` prints).
pub const NOMAD_BUILD: &str = "2.0.5";
/// Build tag the Consul members advertise (`consul version` prints the part before `:`).
pub const CONSUL_BUILD: &str = "1.21.0:f3c0ffee";

/// The Nomad side of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NomadRole {
    /// Region, e.g. `europe`.
    pub region: String,
    /// Datacenter, e.g. `eu-west-1`.
    pub datacenter: String,
    /// Server (joins the servers' pool, answers joins) or client (registers as a node).
    pub server: bool,
    /// `server.bootstrap_expect` (advertised as the `expect`/`bootstrap` tag).
    pub bootstrap_expect: u32,
    /// HTTP port (4646; 0 = any free port).
    pub http_port: u16,
    /// RPC port (4647; servers only listen on it; 0 = any free port).
    pub rpc_port: u16,
    /// Serf port (4648; servers only; 0 = any free port).
    pub serf_port: u16,
    /// Servers: serf addresses of other servers. Clients: addresses of servers (RPC,
    /// HTTP or serf port all work; a bare host means the RPC port 4647).
    pub retry_join: Vec<String>,
    /// Client node class.
    pub node_class: String,
    /// Client node metadata.
    pub meta: BTreeMap<String, String>,
    /// When set, requests need `X-Nomad-Token: <token>` (status and regions stay open).
    pub acl_token: Option<String>,
    /// Address the HTTP listener binds (`addresses.http`); defaults to the agent's bind.
    pub http_bind: Option<IpAddr>,
    /// The local Consul agent's HTTP address (`consul { address }`) the agent registers
    /// itself (`nomad` / `nomad-client`) and, on a client, its running allocations'
    /// services with. `None` (the constructors' default, so in-process tests stay apart):
    /// no Consul registrations; configuration files give `127.0.0.1:8500` by default.
    pub consul_address: Option<String>,
    /// Token sent to that Consul agent (`consul { token }`), if its ACLs want one.
    pub consul_token: Option<String>,
}

impl NomadRole {
    /// A server of `region`/`datacenter` with the default ports and `bootstrap_expect` 1.
    pub fn server(region: &str, datacenter: &str) -> Self {
        Self {
            region: region.to_string(),
            datacenter: datacenter.to_string(),
            server: true,
            bootstrap_expect: 1,
            http_port: 4646,
            rpc_port: 4647,
            serf_port: 4648,
            retry_join: Vec::new(),
            node_class: String::new(),
            meta: BTreeMap::new(),
            acl_token: None,
            http_bind: None,
            consul_address: None,
            consul_token: None,
        }
    }

    /// A client of `region`/`datacenter` with the default ports.
    pub fn client(region: &str, datacenter: &str) -> Self {
        Self {
            server: false,
            bootstrap_expect: 0,
            ..Self::server(region, datacenter)
        }
    }

    /// Sets the `retry_join` addresses.
    pub fn with_retry_join(mut self, addresses: &[&str]) -> Self {
        self.retry_join = addresses.iter().map(|a| a.to_string()).collect();
        self
    }

    /// Sets the HTTP, RPC and serf ports.
    pub fn with_ports(mut self, http: u16, rpc: u16, serf: u16) -> Self {
        (self.http_port, self.rpc_port, self.serf_port) = (http, rpc, serf);
        self
    }

    /// Requires an ACL token.
    pub fn with_acl_token(mut self, token: &str) -> Self {
        self.acl_token = Some(token.to_string());
        self
    }

    /// Sets a client's node class.
    pub fn with_node_class(mut self, class: &str) -> Self {
        self.node_class = class.to_string();
        self
    }

    /// Adds one client node metadata pair.
    pub fn with_meta(mut self, key: &str, value: &str) -> Self {
        self.meta.insert(key.to_string(), value.to_string());
        self
    }

    /// Sets the local Consul agent address (`host:port`).
    pub fn with_consul_address(mut self, address: &str) -> Self {
        self.consul_address = Some(address.to_string());
        self
    }
}

/// The Consul side of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsulRole {
    /// Datacenter, e.g. `gce-west1`.
    pub datacenter: String,
    /// Server (LAN + WAN pools, may be leader) or client (LAN pool only).
    pub server: bool,
    /// `bootstrap_expect` (advertised as the `expect`/`bootstrap` tag).
    pub bootstrap_expect: u32,
    /// HTTP port (8500; 0 = any free port).
    pub http_port: u16,
    /// LAN serf port (8301; 0 = any free port).
    pub serf_lan_port: u16,
    /// WAN serf port (8302; servers only; 0 = any free port).
    pub serf_wan_port: u16,
    /// Server RPC port (8300; servers only; 0 = any free port).
    pub server_port: u16,
    /// LAN serf addresses to join at start (bare host = port 8301).
    pub retry_join: Vec<String>,
    /// WAN serf addresses to join at start (servers; bare host = port 8302).
    pub retry_join_wan: Vec<String>,
    /// Gossip encryption key (`encrypt`): only agents with the same key can gossip.
    pub encrypt: Option<String>,
    /// When set, requests need `X-Consul-Token: <token>` (status and catalog datacenters
    /// stay open).
    pub acl_token: Option<String>,
    /// Address the HTTP listener binds (`client_addr`); defaults to the agent's bind.
    pub http_bind: Option<IpAddr>,
    /// Address advertised in the WAN pool (`advertise_addr_wan`).
    pub advertise_wan: Option<IpAddr>,
}

impl ConsulRole {
    /// A server of `datacenter` with the default ports and `bootstrap_expect` 1.
    pub fn server(datacenter: &str) -> Self {
        Self {
            datacenter: datacenter.to_string(),
            server: true,
            bootstrap_expect: 1,
            http_port: 8500,
            serf_lan_port: 8301,
            serf_wan_port: 8302,
            server_port: 8300,
            retry_join: Vec::new(),
            retry_join_wan: Vec::new(),
            encrypt: None,
            acl_token: None,
            http_bind: None,
            advertise_wan: None,
        }
    }

    /// A client of `datacenter` with the default ports.
    pub fn client(datacenter: &str) -> Self {
        Self {
            server: false,
            bootstrap_expect: 0,
            ..Self::server(datacenter)
        }
    }

    /// Sets the LAN `retry_join` addresses.
    pub fn with_retry_join(mut self, addresses: &[&str]) -> Self {
        self.retry_join = addresses.iter().map(|a| a.to_string()).collect();
        self
    }

    /// Sets the `retry_join_wan` addresses.
    pub fn with_retry_join_wan(mut self, addresses: &[&str]) -> Self {
        self.retry_join_wan = addresses.iter().map(|a| a.to_string()).collect();
        self
    }

    /// Requires an ACL token.
    pub fn with_acl_token(mut self, token: &str) -> Self {
        self.acl_token = Some(token.to_string());
        self
    }
}

/// Configuration of one agent double.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// Node name (Nomad server members are `<name>.<region>`, Consul WAN members
    /// `<name>.<datacenter>`).
    pub name: String,
    /// Address every listener binds (e.g. `127.0.0.21`, or a lab host's address).
    pub bind: IpAddr,
    /// Address advertised to peers; defaults to `bind` (or `127.0.0.1` when `bind` is
    /// unspecified).
    pub advertise: Option<IpAddr>,
    /// The Nomad agent, if this double plays one.
    pub nomad: Option<NomadRole>,
    /// The Consul agent, if this double plays one.
    pub consul: Option<ConsulRole>,
}

impl AgentConfig {
    /// An agent named `name` bound to `bind`, with no role yet.
    pub fn new(name: &str, bind: IpAddr) -> Self {
        Self {
            name: name.to_string(),
            bind,
            advertise: None,
            nomad: None,
            consul: None,
        }
    }

    /// Adds a Nomad role.
    pub fn with_nomad(mut self, role: NomadRole) -> Self {
        self.nomad = Some(role);
        self
    }

    /// Adds a Consul role.
    pub fn with_consul(mut self, role: ConsulRole) -> Self {
        self.consul = Some(role);
        self
    }

    /// The address peers reach this agent on.
    fn advertised(&self) -> IpAddr {
        match self.advertise {
            Some(a) => a,
            None if self.bind.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            None => self.bind,
        }
    }
}

/// State shared by an agent's listeners and its gossip thread.
pub(crate) struct Agent {
    /// The configuration with the ports actually bound.
    pub config: AgentConfig,
    pub node_id: String,
    pools: Mutex<Pools>,
    pub stop: Arc<Stop>,
    /// Nomad servers: jobs, evaluations, deployments and allocations (authoritative on
    /// the region's leader; other agents forward to it).
    pub jobs: jobs::JobState,
    /// Gossip rounds done, to rotate through each pool's members.
    gossip_rounds: std::sync::atomic::AtomicUsize,
}

#[derive(Debug, Default)]
struct Pools {
    nomad: Option<Pool>,
    lan: Option<Pool>,
    wan: Option<Pool>,
    /// Consul clients: the datacenters their LAN servers know over the WAN.
    heard_datacenters: BTreeSet<String>,
}

impl Pools {
    fn get_mut(&mut self, kind: PoolKind) -> Option<&mut Pool> {
        match kind {
            PoolKind::Nomad => self.nomad.as_mut(),
            PoolKind::Lan => self.lan.as_mut(),
            PoolKind::Wan => self.wan.as_mut(),
        }
    }

    /// The gossip message of a pool; a Consul server's LAN messages also carry the
    /// datacenters of its WAN pool (so clients can answer `/v1/catalog/datacenters`).
    fn message(&mut self, kind: PoolKind) -> Option<Value> {
        let mut msg = self.get_mut(kind)?.wire();
        if kind == PoolKind::Lan {
            if let Some(wan) = &self.wan {
                let dcs: BTreeSet<String> = wan
                    .members()
                    .into_iter()
                    .filter(|(_, s)| *s != pool::Status::Left)
                    .map(|(m, _)| m.tag("dc").to_string())
                    .collect();
                msg["datacenters"] = serde_json::json!(dcs);
            }
        }
        Some(msg)
    }

    /// Checks and merges a peer's message into a pool; `Err` is why it was refused.
    fn absorb(&mut self, kind: PoolKind, msg: &Value) -> Result<(), String> {
        let pool = self
            .get_mut(kind)
            .ok_or_else(|| "not a member of this gossip pool".to_string())?;
        if !pool.key_matches(msg) {
            return Err("No installed keys could decrypt the message".to_string());
        }
        if let Some(refusal) = pool.foreign_datacenter(msg) {
            return Err(refusal);
        }
        pool.merge(msg);
        let heard = msg.get("datacenters").and_then(Value::as_array);
        if kind == PoolKind::Lan && self.wan.is_none() {
            if let Some(list) = heard.filter(|l| !l.is_empty()) {
                self.heard_datacenters = list
                    .iter()
                    .filter_map(|d| d.as_str().map(str::to_string))
                    .collect();
            }
        }
        Ok(())
    }
}

impl Agent {
    fn pools(&self) -> MutexGuard<'_, Pools> {
        self.pools.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on a pool of this agent, if it has it.
    pub(crate) fn with_pool<T>(&self, kind: PoolKind, f: impl FnOnce(&mut Pool) -> T) -> Option<T> {
        self.pools().get_mut(kind).map(f)
    }

    /// Members of a pool with their status (empty if the agent has no such pool).
    pub(crate) fn members(&self, kind: PoolKind) -> Vec<(Member, pool::Status)> {
        self.with_pool(kind, |p| p.members()).unwrap_or_default()
    }

    /// Datacenters a Consul client heard of from its LAN servers.
    pub(crate) fn heard_datacenters(&self) -> BTreeSet<String> {
        self.pools().heard_datacenters.clone()
    }

    /// One push-pull exchange with `addr`; `Err` is the text after `Failed to join <addr>: `.
    pub(crate) fn exchange(&self, kind: PoolKind, addr: &str) -> Result<(), String> {
        let msg = self
            .pools()
            .message(kind)
            .ok_or_else(|| "no such gossip pool".to_string())?;
        let body = serde_json::to_vec(&msg).unwrap_or_default();
        let (status, answer) = net::post(addr, &format!("/gossip/{}", kind.path()), &body)?;
        if status != 200 {
            return Err(String::from_utf8_lossy(&answer).into_owned());
        }
        let answer: Value = serde_json::from_slice(&answer)
            .map_err(|_| format!("read tcp {addr}: malformed gossip answer"))?;
        self.pools().absorb(kind, &answer)
    }

    /// Joins every address; `(joined, errors)` with `Failed to join <addr>: ...` texts.
    pub(crate) fn join(&self, kind: PoolKind, addresses: &[String]) -> (usize, Vec<String>) {
        let mut joined = 0;
        let mut errors = Vec::new();
        for addr in addresses {
            match self.exchange(kind, addr) {
                Ok(()) => joined += 1,
                Err(e) => errors.push(format!("Failed to join {addr}: {e}")),
            }
        }
        (joined, errors)
    }

    /// Answers `POST /gossip/<pool>`.
    pub(crate) fn gossip_request(&self, req: &RecordedRequest) -> Response {
        let kind = req
            .path
            .strip_prefix("/gossip/")
            .and_then(PoolKind::from_path);
        let Some(kind) = kind else {
            return Response::text(404, "unknown gossip pool");
        };
        let Some(msg) = req.body_json() else {
            return Response::text(400, "malformed gossip message");
        };
        let mut pools = self.pools();
        if pools.get_mut(kind).is_none() {
            return Response::text(404, "not a member of this gossip pool");
        }
        if let Err(why) = pools.absorb(kind, &msg) {
            return Response::text(400, why);
        }
        match pools.message(kind) {
            Some(answer) => Response::json(&answer),
            None => Response::text(404, "not a member of this gossip pool"),
        }
    }

    /// One gossip round: an exchange with some members of every pool ([`fanout`] of
    /// them, the next ones in turn), in parallel (so an unreachable member does not
    /// delay the others).
    fn gossip_round(&self) {
        let round = self
            .gossip_rounds
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut targets = Vec::new();
        for kind in [PoolKind::Nomad, PoolKind::Lan, PoolKind::Wan] {
            let addrs = self.with_pool(kind, |p| p.targets()).unwrap_or_default();
            targets.extend(in_turn(addrs, round).into_iter().map(|a| (kind, a)));
        }
        thread::scope(|s| {
            for (kind, addr) in &targets {
                if self.stop.stopping() {
                    return;
                }
                s.spawn(move || {
                    let _ = self.exchange(*kind, addr);
                });
            }
        });
    }

    /// Consul's WAN flooding: a server adds the servers of its own datacenter
    /// (from its LAN pool) to the WAN pool, so one WAN join federates a whole
    /// datacenter, as in Consul.
    fn flood_wan(&self) {
        let candidates: Vec<String> = {
            let pools = self.pools();
            let (Some(lan), Some(wan)) = (&pools.lan, &pools.wan) else {
                return;
            };
            let known: BTreeSet<String> = wan.members().into_iter().map(|(m, _)| m.name).collect();
            lan.members()
                .into_iter()
                .filter(|(m, status)| *status == pool::Status::Alive && m.tag("role") == "consul")
                .filter(|(m, _)| !known.contains(&format!("{}.{}", m.name, m.tag("dc"))))
                .filter_map(|(m, _)| {
                    let port = m.tag("wan_join_port").parse().ok()?;
                    Some(pool::join_host_port(&m.addr, port))
                })
                .collect()
        };
        if !candidates.is_empty() && !self.stop.stopping() {
            let _ = self.join(PoolKind::Wan, &candidates);
        }
    }

    /// Tries the pending `retry_join` addresses of every pool; clears them on success.
    fn retry_joins(&self) {
        for kind in [PoolKind::Nomad, PoolKind::Lan, PoolKind::Wan] {
            let pending = self
                .with_pool(kind, |p| p.retry.clone())
                .unwrap_or_default();
            if pending.is_empty() || self.stop.stopping() {
                continue;
            }
            let (joined, _) = self.join(kind, &pending);
            if joined > 0 {
                self.with_pool(kind, |p| p.retry.clear());
            }
        }
    }
}

/// Every member is contacted at least once in this many rounds (1 s), well within
/// [`FAILURE_TIMEOUT`], so each agent still sees a dead member fail in time.
const ROUNDS_PER_CYCLE: usize = 5;
/// The fewest members one round contacts (when the pool has them).
const MIN_FANOUT: usize = 4;

/// How many of `n` members one round contacts. Like serf, not every member every
/// round: with all of them, gossip grows with the square of the pool and a
/// few dozen agents on one machine spend their time gossiping.
fn fanout(n: usize) -> usize {
    n.div_ceil(ROUNDS_PER_CYCLE).max(MIN_FANOUT).min(n)
}

/// The members round `round` contacts: the next [`fanout`] of them, cycling.
fn in_turn(addrs: Vec<String>, round: usize) -> Vec<String> {
    let n = addrs.len();
    let k = fanout(n);
    if k == n {
        return addrs;
    }
    let start = round.wrapping_mul(k) % n;
    (0..k).map(|i| addrs[(start + i) % n].clone()).collect()
}

fn gossip_loop(agent: &Agent) {
    let mut last_retry: Option<Instant> = None;
    loop {
        if last_retry.is_none_or(|t| t.elapsed() >= RETRY_INTERVAL) {
            agent.retry_joins();
            agent.flood_wan();
            last_retry = Some(Instant::now());
        }
        agent.gossip_round();
        if !agent.stop.sleep(GOSSIP_INTERVAL) {
            return;
        }
    }
}

/// `addr` with `default_port` when it has none.
pub(crate) fn with_default_port(addr: &str, default_port: u16) -> String {
    let addr = addr.trim();
    if addr.parse::<SocketAddr>().is_ok() {
        return addr.to_string();
    }
    if addr.parse::<IpAddr>().is_ok() {
        return join_host_port(addr, default_port);
    }
    let trimmed = addr.trim_start_matches('[').trim_end_matches(']');
    if trimmed.parse::<IpAddr>().is_ok() {
        return join_host_port(trimmed, default_port);
    }
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => addr.to_string(),
        _ => join_host_port(addr, default_port),
    }
}

/// Which API a listener serves.
#[derive(Clone, Copy)]
enum Api {
    Nomad,
    Consul,
}

/// A running agent double. Its listeners and gossip thread stop on [`AgentDouble::stop`]
/// or drop (without leaving: peers see it `failed` after [`FAILURE_TIMEOUT`]).
pub struct AgentDouble {
    agent: Arc<Agent>,
    nomad_http: Option<SocketAddr>,
    consul_http: Option<SocketAddr>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for AgentDouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentDouble")
            .field("name", &self.agent.config.name)
            .field("nomad", &self.nomad_address())
            .field("consul", &self.consul_address())
            .finish()
    }
}

fn bind(ip: IpAddr, port: u16) -> io::Result<(TcpListener, u16)> {
    let l = TcpListener::bind(SocketAddr::new(ip, port)).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("bind {}: {e}", join_host_port(&ip.to_string(), port)),
        )
    })?;
    let port = l.local_addr()?.port();
    Ok((l, port))
}

fn incarnation() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn new_pool(me: Member, retry: Vec<String>, key: Option<String>, lan: bool) -> Pool {
    Pool {
        lan,
        me,
        others: BTreeMap::new(),
        retry,
        key,
    }
}

fn tags(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn expect_tag(expect: u32) -> (&'static str, String) {
    if expect <= 1 {
        ("bootstrap", "1".into())
    } else {
        ("expect", expect.to_string())
    }
}

impl AgentDouble {
    /// Binds every listener of the configured roles and starts gossiping (joining the
    /// `retry_join` addresses at once, then every [`RETRY_INTERVAL`] until one answers).
    ///
    /// Nomad servers listen on the HTTP, RPC and serf ports, Nomad clients on HTTP only;
    /// Consul servers on HTTP, LAN serf, WAN serf and server ports, clients on HTTP and
    /// LAN serf. Port 0 picks a free port. Errors: a port is taken, or no role is set.
    pub fn start(mut config: AgentConfig) -> io::Result<AgentDouble> {
        if config.nomad.is_none() && config.consul.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an agent double needs a Nomad or a Consul role",
            ));
        }
        let advertise = config.advertised().to_string();
        let bind_ip = config.bind;
        let node_id = new_id();
        let inc = incarnation();
        let now = Instant::now();
        let mut listeners: Vec<(TcpListener, Api)> = Vec::new();
        let mut pools = Pools::default();
        let mut nomad_http = None;
        let mut consul_http = None;
        let name = config.name.clone();
        let member = |name: String, addr: &str, port: u16, tags| Member {
            name,
            addr: addr.to_string(),
            port,
            tags,
            incarnation: inc,
            left: false,
            last_seen: now,
        };

        if let Some(n) = config.nomad.as_mut() {
            let http_ip = n.http_bind.unwrap_or(bind_ip);
            let (l, port) = bind(http_ip, n.http_port)?;
            n.http_port = port;
            nomad_http = Some(SocketAddr::new(advertise_or(http_ip, &advertise), port));
            listeners.push((l, Api::Nomad));
            let me = if n.server {
                let (l, port) = bind(bind_ip, n.rpc_port)?;
                n.rpc_port = port;
                listeners.push((l, Api::Nomad));
                let (l, port) = bind(bind_ip, n.serf_port)?;
                n.serf_port = port;
                listeners.push((l, Api::Nomad));
                let t = tags(&[
                    ("role", "nomad".into()),
                    ("region", n.region.clone()),
                    ("dc", n.datacenter.clone()),
                    ("port", n.rpc_port.to_string()),
                    ("rpc_addr", advertise.clone()),
                    ("build", NOMAD_BUILD.into()),
                    ("vsn", "1".into()),
                    ("raft_vsn", "3".into()),
                    ("id", node_id.clone()),
                    (pool::HTTP_TAG, n.http_port.to_string()),
                    (pool::SINCE_TAG, inc.to_string()),
                    expect_tag(n.bootstrap_expect),
                ]);
                member(format!("{name}.{}", n.region), &advertise, n.serf_port, t)
            } else {
                let mut t = tags(&[
                    ("role", "node".into()),
                    ("region", n.region.clone()),
                    ("dc", n.datacenter.clone()),
                    ("id", node_id.clone()),
                    ("node_class", n.node_class.clone()),
                    ("build", NOMAD_BUILD.into()),
                    (pool::HTTP_TAG, n.http_port.to_string()),
                ]);
                for (k, v) in &n.meta {
                    t.insert(format!("meta.{k}"), v.clone());
                }
                member(name.clone(), &advertise, n.http_port, t)
            };
            let default_port = if n.server { n.serf_port } else { 4647 };
            let retry = n
                .retry_join
                .iter()
                .map(|a| with_default_port(a, default_port))
                .collect();
            pools.nomad = Some(new_pool(me, retry, None, false));
        }

        if let Some(c) = config.consul.as_mut() {
            let http_ip = c.http_bind.unwrap_or(bind_ip);
            let (l, port) = bind(http_ip, c.http_port)?;
            c.http_port = port;
            consul_http = Some(SocketAddr::new(advertise_or(http_ip, &advertise), port));
            listeners.push((l, Api::Consul));
            let (l, port) = bind(bind_ip, c.serf_lan_port)?;
            c.serf_lan_port = port;
            listeners.push((l, Api::Consul));
            let mut common = vec![
                ("dc", c.datacenter.clone()),
                ("id", node_id.clone()),
                ("build", CONSUL_BUILD.into()),
                ("vsn", "2".into()),
                ("vsn_min", "2".into()),
                ("vsn_max", "3".into()),
                ("segment", String::new()),
                (pool::HTTP_TAG, c.http_port.to_string()),
            ];
            if c.server {
                let (l, port) = bind(bind_ip, c.serf_wan_port)?;
                c.serf_wan_port = port;
                listeners.push((l, Api::Consul));
                let (l, port) = bind(bind_ip, c.server_port)?;
                c.server_port = port;
                listeners.push((l, Api::Consul));
                common.extend([
                    ("role", "consul".into()),
                    ("port", c.server_port.to_string()),
                    ("raft_vsn", "3".into()),
                    expect_tag(c.bootstrap_expect),
                ]);
                let wan_addr = c.advertise_wan.map_or(advertise.clone(), |a| a.to_string());
                let wan_me = member(
                    format!("{name}.{}", c.datacenter),
                    &wan_addr,
                    c.serf_wan_port,
                    tags(&common),
                );
                let retry = c
                    .retry_join_wan
                    .iter()
                    .map(|a| with_default_port(a, c.serf_wan_port))
                    .collect();
                pools.wan = Some(new_pool(wan_me, retry, c.encrypt.clone(), false));
                common.push(("wan_join_port", c.serf_wan_port.to_string()));
                common.push(("x.wan", wan_addr));
            } else {
                common.push(("role", "node".into()));
            }
            let lan_me = member(name.clone(), &advertise, c.serf_lan_port, tags(&common));
            let retry = c
                .retry_join
                .iter()
                .map(|a| with_default_port(a, c.serf_lan_port))
                .collect();
            pools.lan = Some(new_pool(lan_me, retry, c.encrypt.clone(), true));
        }

        let agent = Arc::new(Agent {
            config,
            node_id,
            pools: Mutex::new(pools),
            stop: Arc::new(Stop::default()),
            jobs: jobs::JobState::default(),
            gossip_rounds: std::sync::atomic::AtomicUsize::new(0),
        });
        let mut threads = Vec::new();
        for (listener, api) in listeners {
            let a = Arc::clone(&agent);
            let handler: Handler = Arc::new(move |req: &RecordedRequest| {
                if req.path.starts_with("/gossip/") {
                    return a.gossip_request(req);
                }
                let response = match api {
                    Api::Nomad => nomad::route(&a, req),
                    Api::Consul => consul::route(&a, req),
                };
                pretty(req, response)
            });
            match net::spawn_listener(listener, handler, Arc::clone(&agent.stop)) {
                Ok(h) => threads.push(h),
                Err(e) => {
                    agent.stop.trigger();
                    for h in threads {
                        let _ = h.join();
                    }
                    return Err(e);
                }
            }
        }
        let a = Arc::clone(&agent);
        threads.push(thread::spawn(move || gossip_loop(&a)));
        if let Some(n) = agent.config.nomad.as_ref() {
            let a = Arc::clone(&agent);
            threads.push(thread::spawn(move || sync::service_loop(&a)));
            if n.server {
                let a = Arc::clone(&agent);
                threads.push(thread::spawn(move || replica::server_loop(&a)));
            }
        }
        Ok(AgentDouble {
            agent,
            nomad_http,
            consul_http,
            threads,
        })
    }

    /// The node name.
    pub fn name(&self) -> &str {
        &self.agent.config.name
    }

    /// The configuration with the ports actually bound.
    pub fn config(&self) -> &AgentConfig {
        &self.agent.config
    }

    /// Base URL of the Nomad HTTP API (`http://IP:4646`), if this agent plays Nomad.
    pub fn nomad_address(&self) -> Option<String> {
        self.nomad_http.map(|a| format!("http://{a}"))
    }

    /// Base URL of the Consul HTTP API (`http://IP:8500`), if this agent plays Consul.
    pub fn consul_address(&self) -> Option<String> {
        self.consul_http.map(|a| format!("http://{a}"))
    }

    /// Leaves every pool cleanly (peers see it `left` / `3`), then stops.
    pub fn leave(&mut self) {
        if self.agent.stop.stopping() {
            return;
        }
        for kind in [PoolKind::Nomad, PoolKind::Lan, PoolKind::Wan] {
            let targets = self
                .agent
                .with_pool(kind, |p| {
                    p.me.left = true;
                    p.me.incarnation += 1;
                    p.targets()
                })
                .unwrap_or_default();
            for t in targets {
                let _ = self.agent.exchange(kind, &t);
            }
        }
        self.stop();
    }

    /// Stops listening and gossiping (idempotent). Peers see the agent `failed` after
    /// [`FAILURE_TIMEOUT`].
    pub fn stop(&mut self) {
        self.agent.stop.trigger();
        self.agent.jobs.shut_down();
        for h in self.threads.drain(..) {
            let _ = h.join();
        }
    }
}

impl Drop for AgentDouble {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `?pretty`: a JSON body re-indented, as the agents do.
fn pretty(req: &RecordedRequest, mut response: Response) -> Response {
    if req.query_value("pretty").is_none() || response.status != 200 {
        return response;
    }
    if let Ok(v) = serde_json::from_slice::<Value>(&response.body) {
        if let Ok(body) = serde_json::to_vec_pretty(&v) {
            response.body = body;
        }
    }
    response
}

/// The address to print for a listener bound to `ip`.
fn advertise_or(ip: IpAddr, advertise: &str) -> IpAddr {
    if ip.is_unspecified() {
        advertise.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        ip
    }
}

/// The token a request carries (`X-<product>-Token`, `Authorization: Bearer`, `?token=`).
pub(crate) fn request_token<'a>(req: &'a RecordedRequest, header: &str) -> Option<&'a str> {
    req.header(header)
        .or_else(|| {
            req.header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
        })
        .or_else(|| req.query_value("token"))
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gossip_contacts_every_member_within_a_cycle() {
        assert_eq!(fanout(3), 3);
        assert_eq!(fanout(16), 4);
        assert_eq!(fanout(40), 8);
        let addrs: Vec<String> = (0..23).map(|i| format!("m{i}")).collect();
        let mut seen = BTreeSet::new();
        for round in 7..7 + ROUNDS_PER_CYCLE {
            let picked = in_turn(addrs.clone(), round);
            assert_eq!(picked.len(), fanout(23));
            seen.extend(picked);
        }
        assert_eq!(seen.len(), 23, "every member in {ROUNDS_PER_CYCLE} rounds");
        assert_eq!(in_turn(addrs[..2].to_vec(), 5), addrs[..2]);
    }

    #[test]
    fn default_ports() {
        assert_eq!(with_default_port("10.0.0.9", 4648), "10.0.0.9:4648");
        assert_eq!(with_default_port("10.0.0.9:4000", 4648), "10.0.0.9:4000");
        assert_eq!(with_default_port("::1", 8302), "[::1]:8302");
        assert_eq!(with_default_port("[::1]:8302", 1), "[::1]:8302");
        assert_eq!(with_default_port("lab-1", 8302), "lab-1:8302");
        assert_eq!(with_default_port("lab-1:9", 8302), "lab-1:9");
    }
}
