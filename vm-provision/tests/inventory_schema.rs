//! The inventory's JSON Schema and the typed parser must agree: every
//! document below is checked against both.

use serde_json::{json, Value};
use vm_provision::inventory::{self, Role, TerraformDefaults};

fn schema() -> Value {
    let text = include_str!("../inventory.schema.json");
    serde_json::from_str(text).expect("the schema is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema())
        .expect("the schema compiles")
}

fn parser_accepts(doc: &Value) -> Result<(), String> {
    inventory::parse(&doc.to_string(), "doc", &TerraformDefaults::default())
        .map(|_| ())
        .map_err(|e| e.message)
}

fn base() -> Value {
    json!({
        "region": "europe",
        "datacenter": "gce-west1",
        "hosts": [
            {"name": "server-1", "address": "10.0.0.1", "role": "server"},
            {"name": "client-1", "address": "10.0.0.9", "role": "client"}
        ]
    })
}

fn with(mut doc: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let target = doc.pointer_mut(parent).expect("parent exists");
    match target {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
        }
        Value::Array(items) => {
            let i: usize = key.parse().expect("an index");
            items[i] = value;
        }
        _ => panic!("cannot set {pointer}"),
    }
    doc
}

fn full() -> Value {
    json!({
        "region": "europe",
        "datacenter": "france",
        "ssh": {
            "user": "debian", "port": 2222, "identity_file": "~/.ssh/id_ed25519",
            "identity_passphrase_env": "SSH_PASS", "known_hosts": "/tmp/kh",
            "bastion": {"address": "bastion.example.com", "port": 22, "user": "jump"},
            "connect_timeout": "30s"
        },
        "hosts": [
            {"name": "fr-server-1", "address": "51.0.0.1", "private_address": "10.1.0.1",
             "public_address": "51.0.0.1", "role": "server", "bind_address": "0.0.0.0"},
            {"name": "fr-client-1.example.com", "address": "db.example.com",
             "private_address": "10.1.0.9", "role": "client", "node_class": "data",
             "meta": {"disk": "ssd"}}
        ],
        "consul": {
            "version": "1.20.5", "retry_join": ["provider=os tag_key=consul"],
            "retry_join_wan": ["35.0.0.1"], "encrypt_key_file": "gossip.key",
            "tls": {"ca_file": "ca.pem", "cert_file": "consul.pem", "key_file": "consul-key.pem"},
            "acl": true
        },
        "nomad": {"version": "1.10.0-beta.1", "acl": true, "tls": null}
    })
}

/// (what, document, valid).
fn cases() -> Vec<(&'static str, Value, bool)> {
    vec![
        ("minimal", base(), true),
        ("every field", full(), true),
        (
            "ipv6 host",
            with(base(), "/hosts/0/address", json!("fd00::1")),
            true,
        ),
        (
            "unknown top-level key",
            with(base(), "/sshh", json!({})),
            false,
        ),
        (
            "unknown host key",
            with(base(), "/hosts/0/tags", json!([])),
            false,
        ),
        (
            "unknown ssh key",
            with(base(), "/ssh", json!({"usr": "x"})),
            false,
        ),
        (
            "missing region",
            {
                let mut d = base();
                d.as_object_mut().unwrap().remove("region");
                d
            },
            false,
        ),
        (
            "bad role",
            with(base(), "/hosts/0/role", json!("boss")),
            false,
        ),
        (
            "no server",
            with(base(), "/hosts/0/role", json!("client")),
            false,
        ),
        ("no host", with(base(), "/hosts", json!([])), false),
        (
            "bad address",
            with(base(), "/hosts/1/address", json!("not valid!")),
            false,
        ),
        (
            "numeric non-ip",
            with(base(), "/hosts/1/address", json!("999.1.1.1")),
            false,
        ),
        (
            "host name without private address",
            with(base(), "/hosts/1/address", json!("db.example.com")),
            false,
        ),
        (
            "private address not an ip",
            with(base(), "/hosts/1/private_address", json!("db.lan")),
            false,
        ),
        (
            "bad node name",
            with(base(), "/hosts/1/name", json!("client_1")),
            false,
        ),
        (
            "bind address not an ip",
            with(base(), "/hosts/1/bind_address", json!("eth0")),
            false,
        ),
        (
            "meta not strings",
            with(base(), "/hosts/1/meta", json!({"n": 1})),
            false,
        ),
        (
            "passphrase inline, not a variable name",
            with(
                base(),
                "/ssh",
                json!({"identity_passphrase_env": "hunter 2"}),
            ),
            false,
        ),
        ("port 0", with(base(), "/ssh", json!({"port": 0})), false),
        (
            "port too big",
            with(base(), "/ssh", json!({"port": 70000})),
            false,
        ),
        (
            "empty user",
            with(base(), "/ssh", json!({"user": ""})),
            false,
        ),
        (
            "bad region",
            with(base(), "/region", json!("eu rope")),
            false,
        ),
        (
            "version not semver",
            with(base(), "/consul", json!({"version": "1.20"})),
            false,
        ),
        (
            "version with v",
            with(base(), "/nomad", json!({"version": "v1.9.7"})),
            false,
        ),
        (
            "blank retry_join",
            with(base(), "/consul", json!({"retry_join": [" "]})),
            false,
        ),
        (
            "tls incomplete",
            with(base(), "/nomad", json!({"tls": {"ca_file": "ca"}})),
            false,
        ),
        (
            "acl not bool",
            with(base(), "/nomad", json!({"acl": "yes"})),
            false,
        ),
        (
            "inline gossip key",
            with(base(), "/consul", json!({"encrypt": "c2VjcmV0"})),
            false,
        ),
        (
            "meta null",
            with(base(), "/hosts/1/meta", json!(null)),
            false,
        ),
        (
            "terraform",
            json!({
                "servers_ips": {"sensitive": false, "type": ["list", "string"], "value": ["35.0.0.1"]},
                "clients_ips": {"value": ["35.0.0.9", "35.0.0.10"]},
                "other_output": {"value": {"x": 1}}
            }),
            true,
        ),
        (
            "terraform servers only",
            json!({"servers_ips": {"value": ["35.0.0.1"]}}),
            true,
        ),
        (
            "terraform without servers",
            json!({"clients_ips": {"value": ["35.0.0.9"]}}),
            false,
        ),
        (
            "terraform empty servers",
            json!({"servers_ips": {"value": []}}),
            false,
        ),
        (
            "terraform bad address",
            json!({"servers_ips": {"value": ["x y"]}}),
            false,
        ),
        (
            "terraform value not a list",
            json!({"servers_ips": {"value": "35.0.0.1"}}),
            false,
        ),
        ("not an object", json!([1, 2]), false),
    ]
}

/// Documents the schema accepts and the parser refuses: what JSON Schema
/// cannot say. Keep this list short and explained.
fn parser_only() -> Vec<(&'static str, Value)> {
    vec![
        (
            "duplicate host names (uniqueness of one property)",
            with(base(), "/hosts/1/name", json!("SERVER-1")),
        ),
        (
            "connect_timeout not a duration",
            with(base(), "/ssh", json!({"connect_timeout": "soon"})),
        ),
    ]
}

#[test]
fn schema_and_parser_agree() {
    let validator = validator();
    let mut disagreements = Vec::new();
    for (what, doc, valid) in cases() {
        let schema_ok = validator.is_valid(&doc);
        let parser = parser_accepts(&doc);
        if schema_ok != valid || parser.is_ok() != valid {
            disagreements.push(format!(
                "{what}: expected valid={valid}, schema={schema_ok}, parser={parser:?}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn what_only_the_parser_checks() {
    let validator = validator();
    for (what, doc) in parser_only() {
        assert!(validator.is_valid(&doc), "{what}: the schema should accept");
        assert!(
            parser_accepts(&doc).is_err(),
            "{what}: the parser should refuse"
        );
    }
}

#[test]
fn schema_defaults_are_the_parser_defaults() {
    let schema = schema();
    let ssh = &schema["$defs"]["ssh"]["properties"];
    let inv =
        inventory::parse(&base().to_string(), "doc", &TerraformDefaults::default()).expect("valid");
    assert_eq!(ssh["user"]["default"], json!(inv.ssh.user));
    assert_eq!(ssh["port"]["default"], json!(inv.ssh.port));
    assert_eq!(ssh["known_hosts"]["default"], json!(inv.ssh.known_hosts));
    let timeout = ssh["connect_timeout"]["default"]
        .as_str()
        .expect("a string");
    assert_eq!(
        cli_common::parse_duration(timeout).expect("a duration"),
        inv.ssh.connect_timeout
    );
    let host = &schema["$defs"]["host"]["properties"];
    assert_eq!(
        host["bind_address"]["default"],
        json!(inv.hosts[0].bind_address)
    );
    assert_eq!(inv.hosts[0].role, Role::Server);
}
