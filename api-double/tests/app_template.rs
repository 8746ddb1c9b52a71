//! The demo app's page template (`app/index.html.ctmpl`), rendered the way
//! consul-template renders it, against a Consul HTTP API.
//!
//! consul-template cannot run here, so this file carries a small renderer of
//! the Go template constructs the page uses (text, `{{- -}}` trimming,
//! `range` with an optional `$var :=` and `else`, `if`/`else`, variables,
//! fields, parentheses, string literals) and of the consul-template
//! functions it calls, each doing the query consul-template does:
//!
//! | function | request | result |
//! |---|---|---|
//! | `datacenters` | `GET /v1/catalog/datacenters` | names, sorted |
//! | `nodes "@dc"` | `GET /v1/catalog/nodes?dc=dc` | `.Node .Address .Datacenter .ID`, by name |
//! | `service "name@dc"` | `GET /v1/health/service/name?dc=dc&passing=1` | instances whose checks all pass: `.Node .NodeAddress .Address` (the service's, else the node's) `.Port .ID .Name .Tags`, by node then ID |
//! | `printf` | | `%s` and `%d` |
//!
//! A field the template names that the value does not have is an error, as
//! it is for consul-template's structs: a typo in the template fails here.
//!
//! The Consul API is, first, a small server in this file answering with the
//! shapes real Consul returns (`Node`, `Address`, `Datacenter`,
//! `TaggedAddresses`, `Service.Service`, `Service.Port`, `Checks[].Status`,
//! ...; a `?dc=` naming an unknown datacenter fails as Consul fails), and
//! then the agent double: Consul agents of gce-west1 and france as
//! `agent-double` processes on 127.0.3.x, WAN-joined, services registered
//! with `PUT /v1/agent/service/register` as Nomad registers them, and the
//! page rendered from a client's agent, which forwards `?dc=` queries; and
//! last stage 4 end to end: `jobs/pcd2017-v2.nomad` converted with
//! hcl2json's library, placed by Nomad doubles, its services registered in
//! Consul by the Nomad clients, and the page showing mongo on france's
//! `data` node.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;

use api_double::agent::{AgentConfig, AgentDouble, ConsulRole, NomadRole};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// The renderer
// ---------------------------------------------------------------------------

mod template {
    use serde_json::Value;

    /// What a template is parsed into.
    #[derive(Debug)]
    pub enum Node {
        Text(String),
        Print(Expr),
        Range {
            var: Option<String>,
            over: Expr,
            body: Vec<Node>,
            otherwise: Vec<Node>,
        },
        If {
            cond: Expr,
            body: Vec<Node>,
            otherwise: Vec<Node>,
        },
    }

    #[derive(Debug, Clone)]
    pub enum Expr {
        /// A string or number literal.
        Lit(Value),
        Var(String),
        /// `.` (empty path) or `.A.B`.
        Field(Vec<String>),
        /// `$var.A.B`.
        VarField(String, Vec<String>),
        Call(String, Vec<Expr>),
    }

    /// The functions a template may call: name, evaluated arguments.
    pub trait Functions {
        fn call(&self, name: &str, args: &[Value]) -> Result<Value, String>;
    }

    enum Piece {
        Text(String),
        Action(String),
    }

    /// Splits into text and actions, applying `{{- ` and ` -}}` trimming.
    fn lex(src: &str) -> Result<Vec<Piece>, String> {
        let mut pieces = Vec::new();
        let mut rest = src;
        let mut trim_next = false;
        loop {
            let (text, after) = match rest.find("{{") {
                Some(i) => (&rest[..i], Some(&rest[i + 2..])),
                None => (rest, None),
            };
            let mut text = text.to_string();
            if trim_next {
                text = text.trim_start().to_string();
            }
            let Some(after) = after else {
                pieces.push(Piece::Text(text));
                return Ok(pieces);
            };
            let end = after.find("}}").ok_or("unclosed action")?;
            let mut action = &after[..end];
            if let Some(a) = action.strip_prefix("- ") {
                text = text.trim_end().to_string();
                action = a;
            }
            trim_next = false;
            if let Some(a) = action.strip_suffix(" -") {
                trim_next = true;
                action = a;
            }
            pieces.push(Piece::Text(text));
            pieces.push(Piece::Action(action.trim().to_string()));
            rest = &after[end + 2..];
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    enum Tok {
        Str(String),
        Word(String),
        Open,
        Close,
        Declare,
    }

    fn tokens(action: &str) -> Result<Vec<Tok>, String> {
        let mut out = Vec::new();
        let mut chars = action.chars().peekable();
        while let Some(&c) = chars.peek() {
            match c {
                ' ' | '\t' | '\n' => {
                    chars.next();
                }
                '(' => {
                    chars.next();
                    out.push(Tok::Open);
                }
                ')' => {
                    chars.next();
                    out.push(Tok::Close);
                }
                '"' => {
                    chars.next();
                    let mut s = String::new();
                    loop {
                        match chars.next().ok_or("unclosed string")? {
                            '"' => break,
                            '\\' => match chars.next().ok_or("bad escape")? {
                                'n' => s.push('\n'),
                                't' => s.push('\t'),
                                other => s.push(other),
                            },
                            other => s.push(other),
                        }
                    }
                    out.push(Tok::Str(s));
                }
                ':' => {
                    chars.next();
                    if chars.next() != Some('=') {
                        return Err(format!("unexpected ':' in {action:?}"));
                    }
                    out.push(Tok::Declare);
                }
                _ => {
                    let mut w = String::new();
                    while let Some(&c) = chars.peek() {
                        if c.is_whitespace() || c == '(' || c == ')' || c == '"' || c == ':' {
                            break;
                        }
                        w.push(c);
                        chars.next();
                    }
                    out.push(Tok::Word(w));
                }
            }
        }
        Ok(out)
    }

    fn word_expr(w: &str) -> Result<Expr, String> {
        if w == "." {
            return Ok(Expr::Field(Vec::new()));
        }
        if let Some(path) = w.strip_prefix('.') {
            return Ok(Expr::Field(path.split('.').map(str::to_string).collect()));
        }
        if let Some(v) = w.strip_prefix('$') {
            let mut parts = v.split('.');
            let name = parts.next().unwrap_or_default().to_string();
            let path: Vec<String> = parts.map(str::to_string).collect();
            return Ok(if path.is_empty() {
                Expr::Var(name)
            } else {
                Expr::VarField(name, path)
            });
        }
        if let Ok(n) = w.parse::<i64>() {
            return Ok(Expr::Lit(Value::from(n)));
        }
        if w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !w.is_empty() {
            return Ok(Expr::Call(w.to_string(), Vec::new()));
        }
        Err(format!("unsupported word {w:?}"))
    }

    /// A command: `term` or `function term...`, up to a `)` or the end.
    fn command(toks: &[Tok], pos: &mut usize) -> Result<Expr, String> {
        let mut terms = Vec::new();
        while let Some(t) = toks.get(*pos) {
            match t {
                Tok::Close => break,
                Tok::Open => {
                    *pos += 1;
                    terms.push(command(toks, pos)?);
                    if toks.get(*pos) != Some(&Tok::Close) {
                        return Err("missing ')'".into());
                    }
                    *pos += 1;
                }
                Tok::Str(s) => {
                    terms.push(Expr::Lit(Value::String(s.clone())));
                    *pos += 1;
                }
                Tok::Word(w) => {
                    terms.push(word_expr(w)?);
                    *pos += 1;
                }
                Tok::Declare => return Err("unexpected ':='".into()),
            }
        }
        let mut terms = terms.into_iter();
        let first = terms.next().ok_or("empty command")?;
        let rest: Vec<Expr> = terms.collect();
        match first {
            Expr::Call(name, args) if args.is_empty() => Ok(Expr::Call(name, rest)),
            other if rest.is_empty() => Ok(other),
            other => Err(format!("{other:?} is not a function")),
        }
    }

    fn expr(src: &str) -> Result<Expr, String> {
        let toks = tokens(src)?;
        let mut pos = 0;
        let e = command(&toks, &mut pos)?;
        if pos != toks.len() {
            return Err(format!("trailing tokens in {src:?}"));
        }
        Ok(e)
    }

    /// How a list of nodes ended.
    enum Stop {
        Eof,
        Else,
        End,
    }

    fn nodes(
        pieces: &mut std::iter::Peekable<std::vec::IntoIter<Piece>>,
    ) -> Result<(Vec<Node>, Stop), String> {
        let mut out = Vec::new();
        while let Some(piece) = pieces.next() {
            let action = match piece {
                Piece::Text(t) => {
                    if !t.is_empty() {
                        out.push(Node::Text(t));
                    }
                    continue;
                }
                Piece::Action(a) => a,
            };
            let (keyword, rest) = action.split_once(' ').unwrap_or((action.as_str(), ""));
            match keyword {
                "end" => return Ok((out, Stop::End)),
                "else" => return Ok((out, Stop::Else)),
                "range" | "if" => {
                    let (var, src) = match rest.split_once(":=") {
                        Some((v, src)) if keyword == "range" => {
                            let v = v.trim();
                            let name = v.strip_prefix('$').ok_or("range variable without $")?;
                            (Some(name.to_string()), src)
                        }
                        _ => (None, rest),
                    };
                    let cond = expr(src)?;
                    let (body, stop) = nodes(pieces)?;
                    let otherwise = match stop {
                        Stop::End => Vec::new(),
                        Stop::Else => match nodes(pieces)? {
                            (o, Stop::End) => o,
                            _ => return Err(format!("{keyword}: else without end")),
                        },
                        Stop::Eof => return Err(format!("{keyword} without end")),
                    };
                    out.push(if keyword == "range" {
                        Node::Range {
                            var,
                            over: cond,
                            body,
                            otherwise,
                        }
                    } else {
                        Node::If {
                            cond,
                            body,
                            otherwise,
                        }
                    });
                }
                _ => out.push(Node::Print(expr(&action)?)),
            }
        }
        Ok((out, Stop::Eof))
    }

    pub fn parse(src: &str) -> Result<Vec<Node>, String> {
        let mut pieces = lex(src)?.into_iter().peekable();
        match nodes(&mut pieces)? {
            (n, Stop::Eof) => Ok(n),
            _ => Err("else or end without range/if".into()),
        }
    }

    struct Scope<'f> {
        funcs: &'f dyn Functions,
        vars: Vec<(String, Value)>,
    }

    fn field(v: &Value, path: &[String]) -> Result<Value, String> {
        let mut cur = v;
        for p in path {
            cur = cur
                .as_object()
                .and_then(|o| o.get(p))
                .ok_or_else(|| format!("can't evaluate field {p} in {cur}"))?;
        }
        Ok(cur.clone())
    }

    fn truthy(v: &Value) -> bool {
        match v {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
        }
    }

    pub fn text(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Null => "<no value>".into(),
            other => other.to_string(),
        }
    }

    impl Scope<'_> {
        fn var(&self, name: &str) -> Result<Value, String> {
            self.vars
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("undefined variable ${name}"))
        }

        fn eval(&self, e: &Expr, dot: &Value) -> Result<Value, String> {
            match e {
                Expr::Lit(v) => Ok(v.clone()),
                Expr::Var(v) => self.var(v),
                Expr::Field(path) => field(dot, path),
                Expr::VarField(v, path) => field(&self.var(v)?, path),
                Expr::Call(name, args) => {
                    let args = args
                        .iter()
                        .map(|a| self.eval(a, dot))
                        .collect::<Result<Vec<_>, _>>()?;
                    self.funcs.call(name, &args)
                }
            }
        }

        fn run(&mut self, nodes: &[Node], dot: &Value, out: &mut String) -> Result<(), String> {
            for n in nodes {
                match n {
                    Node::Text(t) => out.push_str(t),
                    Node::Print(e) => out.push_str(&text(&self.eval(e, dot)?)),
                    Node::If {
                        cond,
                        body,
                        otherwise,
                    } => {
                        let branch = if truthy(&self.eval(cond, dot)?) {
                            body
                        } else {
                            otherwise
                        };
                        self.run(branch, dot, out)?;
                    }
                    Node::Range {
                        var,
                        over,
                        body,
                        otherwise,
                    } => {
                        let items = match self.eval(over, dot)? {
                            Value::Array(items) => items,
                            Value::Null => Vec::new(),
                            other => return Err(format!("range over {other}")),
                        };
                        if items.is_empty() {
                            self.run(otherwise, dot, out)?;
                        }
                        for item in &items {
                            let depth = self.vars.len();
                            if let Some(v) = var {
                                self.vars.push((v.clone(), item.clone()));
                            }
                            self.run(body, item, out)?;
                            self.vars.truncate(depth);
                        }
                    }
                }
            }
            Ok(())
        }
    }

    /// Renders parsed nodes with `.` and `$` null.
    pub fn render(nodes: &[Node], funcs: &dyn Functions) -> Result<String, String> {
        let mut scope = Scope {
            funcs,
            vars: vec![(String::new(), Value::Null)],
        };
        let mut out = String::new();
        scope.run(nodes, &Value::Null, &mut out)?;
        Ok(out)
    }

    /// Go's `printf` for the verbs the page needs.
    pub fn printf(args: &[Value]) -> Result<Value, String> {
        let (format, rest) = args.split_first().ok_or("printf without a format")?;
        let format = format.as_str().ok_or("printf format is not a string")?;
        let mut rest = rest.iter();
        let mut out = String::new();
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => out.push('%'),
                Some('s' | 'd' | 'v') => {
                    out.push_str(&text(rest.next().ok_or("printf: missing argument")?))
                }
                other => return Err(format!("printf: unsupported verb {other:?}")),
            }
        }
        Ok(Value::String(out))
    }
}

// ---------------------------------------------------------------------------
// consul-template's functions over the Consul HTTP API
// ---------------------------------------------------------------------------

/// consul-template's Consul functions, querying the agent at `base`.
struct ConsulFunctions {
    base: String,
    /// Every path+query requested, in order.
    requests: Mutex<Vec<String>>,
}

impl ConsulFunctions {
    fn new(base: &str) -> Self {
        ConsulFunctions {
            base: base.trim_end_matches('/').to_string(),
            requests: Mutex::new(Vec::new()),
        }
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        self.requests.lock().unwrap().push(path.to_string());
        let url = format!("{}{path}", self.base);
        let mut resp = ureq::get(&url)
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?;
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("GET {url}: {e}"))?;
        serde_json::from_str(&body).map_err(|e| format!("GET {url}: {e}: {body}"))
    }

    fn datacenters(&self) -> Result<Value, String> {
        let mut dcs: Vec<String> = serde_json::from_value(self.get("/v1/catalog/datacenters")?)
            .map_err(|e| e.to_string())?;
        dcs.sort();
        Ok(json!(dcs))
    }

    fn nodes(&self, spec: &str) -> Result<Value, String> {
        let dc = spec.strip_prefix('@').ok_or("nodes: expected \"@dc\"")?;
        let mut list = self.get(&format!("/v1/catalog/nodes?dc={dc}"))?;
        let items = list.as_array_mut().ok_or("nodes: not a list")?;
        let mut items: Vec<Value> = items
            .drain(..)
            .map(|n| {
                json!({
                    "ID": n["ID"], "Node": n["Node"], "Address": n["Address"],
                    "Datacenter": n["Datacenter"], "TaggedAddresses": n["TaggedAddresses"],
                    "Meta": n["Meta"],
                })
            })
            .collect();
        items.sort_by_key(|n| (text(&n["Node"]), text(&n["Address"])));
        Ok(Value::Array(items))
    }

    fn service(&self, spec: &str) -> Result<Value, String> {
        let (name, dc) = spec
            .split_once('@')
            .ok_or("service: expected \"name@dc\"")?;
        let list = self.get(&format!("/v1/health/service/{name}?dc={dc}&passing=1"))?;
        let mut out = Vec::new();
        for entry in list.as_array().ok_or("service: not a list")? {
            let checks = entry["Checks"].as_array().cloned().unwrap_or_default();
            if checks.iter().any(|c| c["Status"] != "passing") {
                continue;
            }
            let node = &entry["Node"];
            let svc = &entry["Service"];
            let address = match svc["Address"].as_str() {
                Some(a) if !a.is_empty() => a.to_string(),
                _ => text(&node["Address"]),
            };
            out.push(json!({
                "Node": node["Node"], "NodeID": node["ID"], "NodeAddress": node["Address"],
                "NodeDatacenter": node["Datacenter"], "Address": address,
                "ID": svc["ID"], "Name": svc["Service"], "Tags": svc["Tags"], "Port": svc["Port"],
                "Status": "passing",
            }));
        }
        out.sort_by_key(|s| (text(&s["Node"]), text(&s["ID"])));
        Ok(Value::Array(out))
    }
}

fn text(v: &Value) -> String {
    template::text(v)
}

impl template::Functions for ConsulFunctions {
    fn call(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let one = || -> Result<&str, String> {
            match args {
                [Value::String(s)] => Ok(s),
                _ => Err(format!(
                    "{name}: expected one string argument, got {args:?}"
                )),
            }
        };
        match name {
            "datacenters" if args.is_empty() => self.datacenters(),
            "nodes" => self.nodes(one()?),
            "service" => self.service(one()?),
            "printf" => template::printf(args),
            _ => Err(format!("function {name:?} not defined here")),
        }
    }
}

fn page_template() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../app/index.html.ctmpl");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Renders the app's page against the Consul agent at `base`.
fn render_page(base: &str) -> (String, Vec<String>) {
    let nodes = template::parse(&page_template()).expect("the template parses");
    let funcs = ConsulFunctions::new(base);
    let page = template::render(&nodes, &funcs).expect("the template renders");
    let requests = funcs.requests.into_inner().unwrap();
    (page, requests)
}

/// The text of the `<section>` of datacenter `dc`.
fn section<'a>(page: &'a str, dc: &str) -> &'a str {
    let start = page
        .find(&format!("<section class=\"datacenter\" id=\"dc-{dc}\">"))
        .unwrap_or_else(|| panic!("no section for {dc} in:\n{page}"));
    let len = page[start..].find("</section>").expect("section closed");
    &page[start..start + len]
}

/// The `<li>` texts of the list of class `class` in a section.
fn items(section: &str, class: &str) -> Vec<String> {
    let start = section
        .find(&format!("<ul class=\"{class}\">"))
        .unwrap_or_else(|| panic!("no list {class} in:\n{section}"));
    let end = start + section[start..].find("</ul>").expect("list closed");
    section[start..end]
        .split("<li")
        .skip(1)
        .map(|li| {
            let body = &li[li.find('>').unwrap() + 1..];
            body[..body.find("</li>").unwrap()].to_string()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// A Consul HTTP API with real response shapes
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct FakeNode {
    name: &'static str,
    address: &'static str,
}

#[derive(Clone)]
struct FakeService {
    name: &'static str,
    node: &'static str,
    address: &'static str,
    port: u16,
    status: &'static str,
}

/// The catalog of each datacenter.
#[derive(Clone, Default)]
struct Catalog {
    nodes: BTreeMap<&'static str, Vec<FakeNode>>,
    services: BTreeMap<&'static str, Vec<FakeService>>,
}

fn node_json(dc: &str, n: &FakeNode) -> Value {
    json!({
        "ID": format!("{:0>8}-0000-4000-8000-000000000000", n.name.len()),
        "Node": n.name, "Address": n.address, "Datacenter": dc,
        "TaggedAddresses": {"lan": n.address, "lan_ipv4": n.address, "wan": n.address, "wan_ipv4": n.address},
        "Meta": {"consul-network-segment": ""},
        "CreateIndex": 12, "ModifyIndex": 14,
    })
}

impl Catalog {
    /// `(status, body)` for one GET, as Consul answers it.
    fn answer(&self, local_dc: &str, path: &str) -> (u16, String) {
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let mut dc = local_dc;
        let mut passing = false;
        for pair in query.split('&') {
            match pair.split_once('=').unwrap_or((pair, "")) {
                ("dc", v) if !v.is_empty() => dc = v,
                ("passing", v) => passing = v != "0" && v != "false",
                _ => {}
            }
        }
        if route == "/v1/catalog/datacenters" {
            let dcs: Vec<&str> = self.nodes.keys().copied().collect();
            return (200, json!(dcs).to_string());
        }
        let Some(nodes) = self.nodes.get(dc) else {
            return (500, "No path to datacenter".into());
        };
        let services = self.services.get(dc).cloned().unwrap_or_default();
        if route == "/v1/catalog/nodes" {
            let list: Vec<Value> = nodes.iter().map(|n| node_json(dc, n)).collect();
            return (200, json!(list).to_string());
        }
        if let Some(name) = route.strip_prefix("/v1/health/service/") {
            let list: Vec<Value> = services
                .iter()
                .filter(|s| s.name == name && (!passing || s.status == "passing"))
                .map(|s| {
                    let node = nodes.iter().find(|n| n.name == s.node).expect("service node");
                    let id = format!("_nomad-task-{}-{}", s.node, s.name);
                    json!({
                        "Node": node_json(dc, node),
                        "Service": {
                            "ID": id, "Service": s.name, "Tags": ["web", dc],
                            "Address": s.address, "Meta": null, "Port": s.port,
                            "Weights": {"Passing": 1, "Warning": 1},
                            "EnableTagOverride": false, "CreateIndex": 20, "ModifyIndex": 20,
                        },
                        "Checks": [
                            {"Node": s.node, "CheckID": "serfHealth", "Name": "Serf Health Status",
                             "Status": "passing", "Notes": "", "Output": "Agent alive and reachable",
                             "ServiceID": "", "ServiceName": "", "ServiceTags": []},
                            {"Node": s.node, "CheckID": format!("_nomad-check-{}", s.node),
                             "Name": format!("{} http", s.name), "Status": s.status, "Notes": "",
                             "Output": "", "ServiceID": id, "ServiceName": s.name, "ServiceTags": ["web", dc]},
                        ],
                    })
                })
                .collect();
            return (200, json!(list).to_string());
        }
        (404, "404 page not found".into())
    }
}

/// Serves `catalog` as the agent of `local_dc` on a free 127.0.0.1 port.
fn serve(catalog: Catalog, local_dc: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let catalog = Arc::new(catalog);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let catalog = Arc::clone(&catalog);
            thread::spawn(move || handle(stream, &catalog, local_dc));
        }
    });
    format!("http://{addr}")
}

fn handle(mut stream: TcpStream, catalog: &Catalog, local_dc: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, body) = if method == "GET" {
        catalog.answer(local_dc, path)
    } else {
        (405, format!("method {method} not allowed"))
    };
    let kind = if status == 200 {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nX-Consul-Index: 42\r\nX-Consul-Knownleader: true\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The demo after stage 4: europe's two datacenters, the database moved to
/// france's data node, one frontend in france failing its check.
fn stage_4_catalog() -> Catalog {
    let mut c = Catalog::default();
    let n = |name, address| FakeNode { name, address };
    c.nodes.insert(
        "gce-west1",
        vec![
            n("gce-server-1", "10.1.0.2"),
            n("gce-client-2", "10.1.0.6"),
            n("gce-client-1", "10.1.0.5"),
        ],
    );
    c.nodes.insert(
        "france",
        vec![
            n("ovh-server-1", "10.2.0.2"),
            n("ovh-client-1", "10.2.0.5"),
            n("ovh-client-2", "10.2.0.6"),
        ],
    );
    let s = |name, node, address, port, status| FakeService {
        name,
        node,
        address,
        port,
        status,
    };
    c.services.insert(
        "gce-west1",
        vec![
            s("frontend", "gce-client-2", "10.1.0.6", 80, "passing"),
            s("frontend", "gce-client-1", "", 80, "passing"),
        ],
    );
    c.services.insert(
        "france",
        vec![
            s("mongo", "ovh-client-1", "10.2.0.5", 27017, "passing"),
            s("frontend", "ovh-client-2", "10.2.0.6", 80, "critical"),
        ],
    );
    c
}

#[test]
fn the_page_lists_every_datacenter_its_nodes_and_where_the_services_run() {
    let base = serve(stage_4_catalog(), "gce-west1");
    let (page, requests) = render_page(&base);

    // Datacenters in name order, as consul-template sorts them.
    let france = page.find("id=\"dc-france\"").expect("france");
    let gce = page.find("id=\"dc-gce-west1\"").expect("gce-west1");
    assert!(france < gce, "{page}");
    assert_eq!(page.matches("<section class=\"datacenter\"").count(), 2);

    let gce = section(&page, "gce-west1");
    assert!(gce.contains("<h2>Datacenter gce-west1</h2>"), "{gce}");
    assert_eq!(
        items(gce, "nodes"),
        [
            "gce-client-1 (10.1.0.5)",
            "gce-client-2 (10.1.0.6)",
            "gce-server-1 (10.1.0.2)"
        ]
    );
    // A service without its own address is shown at its node's.
    assert_eq!(
        items(gce, "frontend"),
        [
            "frontend on gce-client-1 at 10.1.0.5:80",
            "frontend on gce-client-2 at 10.1.0.6:80"
        ]
    );
    assert_eq!(items(gce, "mongo"), ["no mongo here"]);

    let fr = section(&page, "france");
    assert_eq!(
        items(fr, "nodes"),
        [
            "ovh-client-1 (10.2.0.5)",
            "ovh-client-2 (10.2.0.6)",
            "ovh-server-1 (10.2.0.2)"
        ]
    );
    assert_eq!(
        items(fr, "mongo"),
        ["mongo on ovh-client-1 at 10.2.0.5:27017"]
    );
    // The frontend failing its check is not listed.
    assert_eq!(items(fr, "frontend"), ["no frontend here"]);
    assert!(!page.contains("ovh-client-2 at"), "{page}");

    // Trimming leaves no template syntax and no blank lines in the lists.
    assert!(!page.contains("{{") && !page.contains("}}"));
    assert!(
        fr.contains(
            "<ul class=\"mongo\">\n      <li class=\"instance\">mongo on ovh-client-1 at 10.2.0.5:27017</li>\n    </ul>"
        ),
        "{fr}"
    );

    // One query per function call, each datacenter named with ?dc=.
    assert_eq!(requests[0], "/v1/catalog/datacenters");
    for dc in ["gce-west1", "france"] {
        for path in [
            format!("/v1/catalog/nodes?dc={dc}"),
            format!("/v1/health/service/frontend?dc={dc}&passing=1"),
            format!("/v1/health/service/mongo?dc={dc}&passing=1"),
        ] {
            assert_eq!(
                requests.iter().filter(|r| **r == path).count(),
                1,
                "{path}: {requests:?}"
            );
        }
    }
    assert_eq!(requests.len(), 7);
}

#[test]
fn a_lone_datacenter_without_the_job_says_so() {
    let mut c = Catalog::default();
    c.nodes.insert(
        "aws-west2",
        vec![FakeNode {
            name: "aws-server-1",
            address: "10.3.0.10",
        }],
    );
    let base = serve(c, "aws-west2");
    let (page, _) = render_page(&base);
    let us = section(&page, "aws-west2");
    assert_eq!(items(us, "nodes"), ["aws-server-1 (10.3.0.10)"]);
    assert_eq!(items(us, "frontend"), ["no frontend here"]);
    assert_eq!(items(us, "mongo"), ["no mongo here"]);
}

#[test]
fn the_renderer_follows_go_template_rules() {
    struct NoConsul;
    impl template::Functions for NoConsul {
        fn call(&self, name: &str, args: &[Value]) -> Result<Value, String> {
            match name {
                "printf" => template::printf(args),
                "list" => Ok(json!([{"A": "x", "N": 1}, {"A": "", "N": 2}])),
                "empty" => Ok(json!([])),
                _ => Err(format!("no function {name}")),
            }
        }
    }
    let render = |src: &str| template::render(&template::parse(src)?, &NoConsul);
    assert_eq!(
        render("a {{- \" b \" -}} c").unwrap(),
        "a b c",
        "trim markers eat the spaces around"
    );
    assert_eq!(
        render("{{ range $i := list }}[{{ if .A }}{{ .A }}{{ else }}none{{ end }} {{ $i.N }}]{{ end }}")
            .unwrap(),
        "[x 1][none 2]"
    );
    assert_eq!(
        render("{{ range empty }}item{{ else }}nothing{{ end }}").unwrap(),
        "nothing"
    );
    assert_eq!(
        render("{{ printf \"%s@%s\" \"web\" (printf \"dc%d\" 1) }}").unwrap(),
        "web@dc1"
    );
    // A field the value lacks is an error, not an empty string.
    let err = render("{{ range list }}{{ .Missing }}{{ end }}").unwrap_err();
    assert!(err.contains("Missing"), "{err}");
    assert!(render("{{ range list }}unclosed").is_err());
    assert!(render("{{ nosuch }}").is_err());
}

#[test]
fn an_unreachable_datacenter_fails_the_rendering() {
    // consul-template does not render a page with a datacenter it cannot
    // query: the error surfaces, the old page stays.
    let mut c = stage_4_catalog();
    c.nodes.remove("france");
    let base = serve(c, "gce-west1");
    let funcs = ConsulFunctions::new(&base);
    let nodes = template::parse(&page_template()).unwrap();
    // Asking for a datacenter the agent has no path to is an error.
    let err = template::render(
        &template::parse("{{ range nodes \"@france\" }}{{ .Node }}{{ end }}").unwrap(),
        &funcs,
    )
    .unwrap_err();
    assert!(err.contains("500"), "{err}");
    // And the page itself renders without france.
    let page = template::render(&nodes, &funcs).unwrap();
    assert!(!page.contains("dc-france"));
}

// ---------------------------------------------------------------------------
// The same page from agent doubles: two Consul datacenters, WAN-joined
// ---------------------------------------------------------------------------

/// `(status, body)` of one request to an agent double.
fn call(method: &str, url: &str, body: Option<&Value>) -> (u16, String) {
    let result = match body {
        Some(b) => ureq::put(url)
            .header("Content-Type", "application/json")
            .config()
            .http_status_as_error(false)
            .build()
            .send(b.to_string()),
        None => ureq::get(url)
            .config()
            .http_status_as_error(false)
            .build()
            .call(),
    };
    let mut resp = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, text)
}

/// Polls `f` until it returns `Some`, for at most `secs` seconds.
fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Starts one Consul agent double from a config file, as a unit would.
fn consul_process(
    dir: &std::path::Path,
    name: &str,
    ip: &str,
    dc: &str,
    role: &str,
) -> api_double::process::AgentProcess {
    let file = dir.join(format!("{name}.hcl"));
    let hcl = format!(
        "node_name   = \"{name}\"\ndatacenter  = \"{dc}\"\nbind_addr   = \"{ip}\"\nclient_addr = \"{ip}\"\n{role}"
    );
    std::fs::write(&file, hcl).expect("write the agent config");
    api_double::process::AgentProcess::start(&[
        std::ffi::OsStr::new("consul"),
        std::ffi::OsStr::new("agent"),
        std::ffi::OsStr::new("-config-file"),
        file.as_os_str(),
    ])
}

/// What Nomad registers for a task's service on the node's agent.
fn register(agent: &str, id: &str, name: &str, address: &str, port: u16) {
    let body = json!({
        "ID": id, "Name": name, "Tags": ["pcd2017"], "Address": address, "Port": port,
        "Meta": {"external-source": "nomad"},
    });
    let (status, text) = call(
        "PUT",
        &format!("{agent}/v1/agent/service/register"),
        Some(&body),
    );
    assert_eq!(status, 200, "register {id} on {agent}: {text}");
}

fn count(url: &str) -> Option<usize> {
    let (status, body) = call("GET", url, None);
    (status == 200)
        .then(|| serde_json::from_str::<Value>(&body).ok())
        .flatten()
        .and_then(|v| v.as_array().map(Vec::len))
}

#[test]
fn the_page_from_federated_agent_doubles() {
    let tmp = tempfile_dir();
    let dir = tmp.as_path();
    let server = "server           = true\nbootstrap_expect = 1\n";
    let gce_server = consul_process(dir, "gce-server-1", "127.0.3.1", "gce-west1", server);
    let join_gce = "retry_join = [\"127.0.3.1\"]\n";
    let gce_1 = consul_process(dir, "gce-client-1", "127.0.3.2", "gce-west1", join_gce);
    let gce_2 = consul_process(dir, "gce-client-2", "127.0.3.3", "gce-west1", join_gce);
    let fr_server = consul_process(
        dir,
        "ovh-server-1",
        "127.0.3.11",
        "france",
        &format!("{server}retry_join_wan = [\"127.0.3.1\"]\n"),
    );
    let fr_1 = consul_process(
        dir,
        "ovh-client-1",
        "127.0.3.12",
        "france",
        "retry_join = [\"127.0.3.11\"]\n",
    );

    // The page is rendered from a client's own agent, as in the job.
    let local = gce_1.url().to_string();
    wait_for(20, "both datacenters in the catalog", || {
        let (s, body) = call("GET", &format!("{local}/v1/catalog/datacenters"), None);
        (s == 200 && body.contains("france") && body.contains("gce-west1")).then_some(())
    });
    wait_for(20, "every node in its datacenter's catalog", || {
        (count(&format!("{local}/v1/catalog/nodes?dc=gce-west1")) == Some(3)
            && count(&format!("{local}/v1/catalog/nodes?dc=france")) == Some(2))
        .then_some(())
    });

    // What Nomad registers for the stage 4 job: two frontends in gce-west1,
    // mongo on france's data node (with no address of its own).
    register(
        gce_1.url(),
        "_nomad-task-a-frontend",
        "frontend",
        "127.0.3.2",
        80,
    );
    register(
        gce_2.url(),
        "_nomad-task-b-frontend",
        "frontend",
        "127.0.3.3",
        80,
    );
    register(fr_1.url(), "_nomad-task-c-mongo", "mongo", "", 27017);
    wait_for(20, "the services in the catalog", || {
        (count(&format!("{local}/v1/health/service/frontend?dc=gce-west1")) == Some(2)
            && count(&format!("{local}/v1/health/service/mongo?dc=france")) == Some(1))
        .then_some(())
    });

    let (page, requests) = render_page(&local);
    assert_eq!(requests.len(), 7, "{requests:?}");
    let gce = section(&page, "gce-west1");
    assert_eq!(
        items(gce, "nodes"),
        [
            "gce-client-1 (127.0.3.2)",
            "gce-client-2 (127.0.3.3)",
            "gce-server-1 (127.0.3.1)"
        ],
        "{page}"
    );
    assert_eq!(
        items(gce, "frontend"),
        [
            "frontend on gce-client-1 at 127.0.3.2:80",
            "frontend on gce-client-2 at 127.0.3.3:80"
        ]
    );
    assert_eq!(items(gce, "mongo"), ["no mongo here"]);
    let fr = section(&page, "france");
    assert_eq!(
        items(fr, "nodes"),
        ["ovh-client-1 (127.0.3.12)", "ovh-server-1 (127.0.3.11)"]
    );
    assert_eq!(items(fr, "frontend"), ["no frontend here"]);
    assert_eq!(
        items(fr, "mongo"),
        ["mongo on ovh-client-1 at 127.0.3.12:27017"]
    );
    drop((gce_server, gce_2, fr_server, fr_1));
}

/// A scratch folder for agent configs, removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn as_path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> ScratchDir {
    let dir = std::env::temp_dir().join(format!("app-template-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    ScratchDir(dir)
}

// ---------------------------------------------------------------------------
// Stage 4 end to end: the v2 job placed by Nomad doubles, its services
// registered in Consul by the Nomad clients, the page rendered from Consul
// ---------------------------------------------------------------------------

/// One host of the demo: a Nomad agent and a Consul agent on one address.
fn host(name: &str, ip: &str, nomad: NomadRole, consul: ConsulRole) -> AgentDouble {
    AgentDouble::start(
        AgentConfig::new(name, ip.parse().unwrap())
            .with_nomad(nomad)
            .with_consul(consul),
    )
    .unwrap_or_else(|e| panic!("start {name}: {e}"))
}

fn client(name: &str, ip: &str, dc: &str, class: &str, servers: (&str, &str)) -> AgentDouble {
    let (nomad_server, consul_server) = servers;
    host(
        name,
        ip,
        NomadRole::client("europe", dc)
            .with_retry_join(&[nomad_server])
            .with_node_class(class)
            .with_consul_address(&format!("{ip}:8500")),
        ConsulRole::client(dc).with_retry_join(&[consul_server]),
    )
}

#[test]
fn the_page_after_stage_4_shows_the_database_on_the_france_data_node() {
    let gce_server = host(
        "gce-server-1",
        "127.0.3.21",
        NomadRole::server("europe", "gce-west1"),
        ConsulRole::server("gce-west1"),
    );
    let fr_server = host(
        "ovh-server-1",
        "127.0.3.31",
        NomadRole::server("europe", "france").with_retry_join(&["127.0.3.21"]),
        ConsulRole::server("france").with_retry_join_wan(&["127.0.3.21"]),
    );
    let gce = ("127.0.3.21", "127.0.3.21");
    let fr = ("127.0.3.21", "127.0.3.31");
    let clients = [
        client("gce-client-1", "127.0.3.22", "gce-west1", "", gce),
        client("gce-client-2", "127.0.3.23", "gce-west1", "", gce),
        client("ovh-client-1", "127.0.3.32", "france", "data", fr),
        client("ovh-client-2", "127.0.3.33", "france", "", fr),
    ];
    let nomad = gce_server.nomad_address().unwrap();
    let local = clients[0].consul_address().unwrap();
    wait_for(20, "4 ready Nomad clients", || {
        let (s, body) = call("GET", &format!("{nomad}/v1/nodes"), None);
        let nodes: Value = serde_json::from_str(&body).ok()?;
        let ready = nodes
            .as_array()?
            .iter()
            .filter(|n| n["Status"] == "ready")
            .count();
        (s == 200 && ready == 4).then_some(())
    });
    wait_for(20, "both Consul datacenters with their nodes", || {
        (count(&format!("{local}/v1/catalog/nodes?dc=gce-west1")) == Some(3)
            && count(&format!("{local}/v1/catalog/nodes?dc=france")) == Some(3))
        .then_some(())
    });

    // The stage 4 job file, converted as job-submit converts it.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../jobs/pcd2017-v2.nomad");
    let src = std::fs::read_to_string(&path).expect("jobs/pcd2017-v2.nomad");
    let job = hcl2json::nomad::Options::default()
        .convert(&src, Some(&path))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (status, body) = call("PUT", &format!("{nomad}/v1/jobs"), Some(&job));
    assert_eq!(status, 200, "{body}");

    wait_for(30, "mongo and two frontends in Consul", || {
        let fronts = count(&format!("{local}/v1/health/service/frontend?dc=gce-west1"))?
            + count(&format!("{local}/v1/health/service/frontend?dc=france"))?;
        let mongo = count(&format!("{local}/v1/health/service/mongo?dc=france"))?;
        (fronts == 2 && mongo == 1).then_some(())
    });

    let (page, _) = render_page(&local);
    let gce = section(&page, "gce-west1");
    let fr = section(&page, "france");
    assert_eq!(
        items(gce, "nodes"),
        [
            "gce-client-1 (127.0.3.22)",
            "gce-client-2 (127.0.3.23)",
            "gce-server-1 (127.0.3.21)"
        ],
        "{page}"
    );
    assert_eq!(
        items(fr, "nodes"),
        [
            "ovh-client-1 (127.0.3.32)",
            "ovh-client-2 (127.0.3.33)",
            "ovh-server-1 (127.0.3.31)"
        ]
    );
    // The constraints of v2: node class data, datacenter france.
    assert_eq!(
        items(fr, "mongo"),
        ["mongo on ovh-client-1 at 127.0.3.32:27017"],
        "{page}"
    );
    assert_eq!(items(gce, "mongo"), ["no mongo here"]);
    // Two frontends, one per node (static port 80), on clients of either
    // datacenter, each at its node's address.
    let mut fronts: Vec<String> = [items(gce, "frontend"), items(fr, "frontend")]
        .concat()
        .into_iter()
        .filter(|i| i.starts_with("frontend on "))
        .collect();
    fronts.sort();
    fronts.dedup();
    assert_eq!(fronts.len(), 2, "{page}");
    let known = [
        ("gce-client-1", "127.0.3.22"),
        ("gce-client-2", "127.0.3.23"),
        ("ovh-client-1", "127.0.3.32"),
        ("ovh-client-2", "127.0.3.33"),
    ];
    for f in &fronts {
        assert!(
            known
                .iter()
                .any(|(n, ip)| *f == format!("frontend on {n} at {ip}:80")),
            "{f}"
        );
    }
    drop((clients, fr_server));
}
