//! Rendered files parse as HCL (with the workspace's hcl2json) and say
//! what the inventory says; the values are read back from the JSON.

use serde_json::{json, Value};
use vm_provision::inventory::{self, Host, Inventory, TerraformDefaults};
use vm_provision::render::{self, RenderedFile};

fn inventory(extra: Value) -> Inventory {
    let mut doc = json!({
        "region": "europe",
        "datacenter": "gce-west1",
        "hosts": [
            {"name": "server-1", "address": "35.0.0.1", "private_address": "10.0.0.1", "public_address": "35.0.0.1", "role": "server"},
            {"name": "server-2", "address": "35.0.0.2", "private_address": "10.0.0.2", "public_address": "35.0.0.2", "role": "server"},
            {"name": "server-3", "address": "35.0.0.3", "private_address": "10.0.0.3", "public_address": "35.0.0.3", "role": "server"},
            {"name": "client-1", "address": "35.0.0.9", "private_address": "10.0.0.9", "role": "client",
             "node_class": "data", "meta": {"zone": "b", "disk": "ssd"}},
            {"name": "client-2", "address": "db.example.com", "private_address": "10.0.0.10", "role": "client"}
        ]
    });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        doc.extend(extra.clone());
    }
    inventory::parse(&doc.to_string(), "inv", &TerraformDefaults::default()).expect("valid")
}

fn host<'a>(inv: &'a Inventory, name: &str) -> &'a Host {
    inv.hosts.iter().find(|h| h.name == name).expect("a host")
}

fn hcl(text: &str) -> Value {
    let bytes = hcl2json::generic::to_json(text, false)
        .unwrap_or_else(|e| panic!("rendered HCL does not parse: {e}\n{text}"));
    serde_json::from_slice(&bytes).expect("JSON")
}

fn file<'a>(files: &'a [RenderedFile], path: &str) -> &'a RenderedFile {
    files.iter().find(|f| f.path == path).expect("rendered")
}

#[test]
fn consul_server() {
    let inv = inventory(json!({}));
    let c = hcl(&render::consul_hcl(&inv, host(&inv, "server-2"), None));
    assert_eq!(c["datacenter"], "gce-west1");
    assert_eq!(c["data_dir"], "/opt/consul");
    assert_eq!(c["node_name"], "server-2");
    assert_eq!(c["bind_addr"], "0.0.0.0");
    assert_eq!(c["client_addr"], "0.0.0.0");
    assert_eq!(c["advertise_addr"], "10.0.0.2");
    // The public address for the WAN, not the private one (the 2017 demo's mistake).
    assert_eq!(c["advertise_addr_wan"], "35.0.0.2");
    assert_eq!(c["server"], true);
    assert_eq!(c["bootstrap_expect"], 3);
    assert_eq!(c["retry_join"], json!(["10.0.0.1", "10.0.0.3"]));
    assert_eq!(c["ui_config"][0]["enabled"], true);
    for absent in ["encrypt", "tls", "acl", "retry_join_wan", "ports"] {
        assert!(c.get(absent).is_none(), "{absent}: {c}");
    }
}

#[test]
fn consul_client() {
    let inv = inventory(json!({"consul": {"retry_join": ["provider=gce tag_value=consul"]}}));
    let c = hcl(&render::consul_hcl(&inv, host(&inv, "client-1"), None));
    assert_eq!(c["node_name"], "client-1");
    assert_eq!(c["advertise_addr"], "10.0.0.9");
    assert_eq!(c["advertise_addr_wan"], "35.0.0.9");
    assert_eq!(
        c["retry_join"],
        json!([
            "10.0.0.1",
            "10.0.0.2",
            "10.0.0.3",
            "provider=gce tag_value=consul"
        ])
    );
    for absent in ["server", "bootstrap_expect", "ui_config", "retry_join_wan"] {
        assert!(c.get(absent).is_none(), "{absent}: {c}");
    }
    // A host name is not advertised: the WAN address falls back to the LAN one.
    let c = hcl(&render::consul_hcl(&inv, host(&inv, "client-2"), None));
    assert_eq!(c["advertise_addr"], "10.0.0.10");
    assert!(c.get("advertise_addr_wan").is_none());
}

#[test]
fn consul_encrypt_tls_acl_wan() {
    let inv = inventory(json!({"consul": {
        "retry_join_wan": ["52.0.0.1", "52.0.0.2"],
        "tls": {"ca_file": "ca.pem", "cert_file": "c.pem", "key_file": "k.pem"},
        "acl": true
    }}));
    let key = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=";
    let files = render::host_files(&inv, host(&inv, "server-1"), Some(key));
    let consul = file(&files, render::CONSUL_CONFIG);
    assert_eq!(consul.mode, 0o640, "the gossip key is a secret");
    let c = hcl(&consul.content);
    assert_eq!(c["encrypt"], key);
    assert_eq!(c["retry_join_wan"], json!(["52.0.0.1", "52.0.0.2"]));
    let defaults = &c["tls"][0]["defaults"][0];
    assert_eq!(defaults["ca_file"], "/etc/consul.d/tls/ca.pem");
    assert_eq!(defaults["cert_file"], "/etc/consul.d/tls/agent.pem");
    assert_eq!(defaults["key_file"], "/etc/consul.d/tls/agent-key.pem");
    assert_eq!(defaults["verify_incoming"], true);
    assert_eq!(
        c["tls"][0]["internal_rpc"][0]["verify_server_hostname"],
        true
    );
    assert_eq!(c["ports"][0]["https"], 8501);
    assert_eq!(c["addresses"][0]["http"], "127.0.0.1");
    assert_eq!(c["acl"][0]["enabled"], true);
    assert_eq!(c["acl"][0]["default_policy"], "deny");
}

#[test]
fn nomad_server() {
    let inv = inventory(json!({}));
    let n = hcl(&render::nomad_hcl(&inv, host(&inv, "server-3")));
    assert_eq!(n["region"], "europe");
    assert_eq!(n["datacenter"], "gce-west1");
    assert_eq!(n["name"], "server-3");
    assert_eq!(n["data_dir"], "/opt/nomad");
    assert_eq!(n["bind_addr"], "0.0.0.0");
    let adv = &n["advertise"][0];
    assert_eq!(adv["http"], "10.0.0.3");
    // RPC for the region's clients; Serf (and so cross-region RPC, at the
    // Serf IP) on the public address.
    assert_eq!(adv["rpc"], "35.0.0.3");
    assert_eq!(adv["serf"], "35.0.0.3");
    let server = &n["server"][0];
    assert_eq!(server["enabled"], true);
    assert_eq!(server["bootstrap_expect"], 3);
    assert_eq!(
        server["server_join"][0]["retry_join"],
        json!(["10.0.0.1", "10.0.0.2"])
    );
    assert!(n.get("client").is_none());
    assert_eq!(n["consul"][0]["address"], "127.0.0.1:8500");
    assert!(n.get("tls").is_none() && n.get("acl").is_none());
}

#[test]
fn nomad_client_with_tls_and_acl() {
    let inv = inventory(json!({"nomad": {
        "acl": true,
        "tls": {"ca_file": "ca.pem", "cert_file": "c.pem", "key_file": "k.pem"}
    }}));
    let n = hcl(&render::nomad_hcl(&inv, host(&inv, "client-1")));
    let adv = &n["advertise"][0];
    assert_eq!(adv["http"], "10.0.0.9");
    assert_eq!(adv["rpc"], "10.0.0.9");
    assert_eq!(adv["serf"], "10.0.0.9");
    let client = &n["client"][0];
    assert_eq!(client["enabled"], true);
    assert_eq!(
        client["server_join"][0]["retry_join"],
        json!(["10.0.0.1:4647", "10.0.0.2:4647", "10.0.0.3:4647"])
    );
    assert_eq!(client["node_class"], "data");
    assert_eq!(client["meta"], json!({"disk": "ssd", "zone": "b"}));
    assert!(n.get("server").is_none());
    assert_eq!(n["acl"][0]["enabled"], true);
    let tls = &n["tls"][0];
    assert_eq!(tls["http"], true);
    assert_eq!(tls["rpc"], true);
    assert_eq!(tls["ca_file"], "/etc/nomad.d/tls/ca.pem");
    // Meta keys come out sorted: the text is stable whatever the input order.
    let text = render::nomad_hcl(&inv, host(&inv, "client-1"));
    let disk = text.find("\"disk\"").expect("disk");
    let zone = text.find("\"zone\"").expect("zone");
    assert!(disk < zone);
}

#[test]
fn single_server_has_no_joins() {
    let doc = json!({"region": "r", "datacenter": "d",
        "hosts": [{"name": "solo", "address": "10.0.0.1", "role": "server"}]});
    let inv = inventory::parse(&doc.to_string(), "inv", &TerraformDefaults::default()).unwrap();
    let c = hcl(&render::consul_hcl(&inv, &inv.hosts[0], None));
    assert_eq!(c["bootstrap_expect"], 1);
    assert!(c.get("retry_join").is_none());
    assert_eq!(c["advertise_addr_wan"], "10.0.0.1");
    let n = hcl(&render::nomad_hcl(&inv, &inv.hosts[0]));
    assert_eq!(n["server"][0]["bootstrap_expect"], 1);
    assert!(n["server"][0].get("server_join").is_none());
}

#[test]
fn strings_are_escaped() {
    let doc = json!({"region": "r", "datacenter": "d",
        "hosts": [{"name": "s", "address": "10.0.0.1", "role": "server"},
                  {"name": "c", "address": "10.0.0.2", "role": "client",
                   "node_class": "a\"b\\c", "meta": {"k.with dots": "${not_interpolated} %{x}\nline"}}]});
    let inv = inventory::parse(&doc.to_string(), "inv", &TerraformDefaults::default()).unwrap();
    let n = hcl(&render::nomad_hcl(&inv, &inv.hosts[1]));
    assert_eq!(n["client"][0]["node_class"], "a\"b\\c");
    assert_eq!(
        n["client"][0]["meta"]["k.with dots"],
        "${not_interpolated} %{x}\nline"
    );
}

/// `[Service]` `ExecStart` of a unit, split in words.
fn exec_start(unit: &str) -> Vec<String> {
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart");
    line.split_whitespace().map(String::from).collect()
}

#[test]
fn units_only_point_at_the_config() {
    let consul = render::consul_unit();
    assert_eq!(
        exec_start(&consul),
        [
            "/usr/local/bin/consul",
            "agent",
            "-config-dir=/etc/consul.d/"
        ]
    );
    let nomad = render::nomad_unit();
    assert_eq!(
        exec_start(&nomad),
        ["/usr/local/bin/nomad", "agent", "-config=/etc/nomad.d/"]
    );
    for unit in [&consul, &nomad] {
        for section in ["[Unit]", "[Service]", "[Install]"] {
            assert!(unit.contains(section), "{section}");
        }
        for flag in [
            "-region",
            "-dc",
            "-datacenter",
            "-server",
            "-bootstrap",
            "-join",
            "-retry-join",
            "-node",
        ] {
            assert!(!unit.contains(flag), "{flag} in a unit");
        }
    }
    assert!(nomad.contains("After=network-online.target consul.service"));
}

#[test]
fn rendering_is_deterministic() {
    let inv = inventory(json!({"consul": {"acl": true}}));
    for h in &inv.hosts {
        let first = render::host_files(&inv, h, Some("pUqJrVyVRj5jsiYEkM/tFQ=="));
        let again = render::host_files(&inv.clone(), h, Some("pUqJrVyVRj5jsiYEkM/tFQ=="));
        assert_eq!(first, again);
        let paths: Vec<_> = first.iter().map(|f| f.path).collect();
        assert_eq!(
            paths,
            [
                render::CONSUL_CONFIG,
                render::NOMAD_CONFIG,
                render::CONSUL_UNIT,
                render::NOMAD_UNIT
            ]
        );
        for f in &first {
            assert!(
                f.content.ends_with('\n') && !f.content.ends_with("\n\n"),
                "{}",
                f.path
            );
        }
    }
}

#[test]
fn gossip_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    std::fs::write(&good, "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=\n").unwrap();
    assert_eq!(
        render::read_gossip_key(&good).unwrap(),
        "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
    );
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "c2VjcmV0LXZhbHVl").unwrap();
    let err = render::read_gossip_key(&bad).unwrap_err();
    assert_eq!(err.exit, cli_common::Exit::BadInput);
    assert!(!err.message.contains("c2VjcmV0LXZhbHVl"), "{}", err.message);
    let err = render::read_gossip_key(&dir.path().join("missing")).unwrap_err();
    assert!(err
        .message
        .starts_with("consul.encrypt_key_file: cannot read"));
}
