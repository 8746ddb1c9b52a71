//! Cluster facts: what `vm-provision` prints about a cluster and the other
//! tools read (region, datacenter, API addresses, server and client
//! addresses, per-host results).
//!
//! Readers are lenient: unknown keys are ignored, so facts from a newer
//! `vm-provision` still read.

use std::io::{IsTerminal, Read};

use serde::Deserialize;

use crate::Error;

/// One cluster's facts.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ClusterFacts {
    /// The Nomad region.
    pub region: Option<String>,
    /// The datacenter (Nomad and Consul).
    pub datacenter: Option<String>,
    /// The Nomad HTTP API address of a server.
    pub nomad_addr: Option<String>,
    /// The Consul HTTP API address of a server.
    pub consul_http_addr: Option<String>,
    /// The servers' addresses.
    pub servers: Vec<String>,
    /// The clients' addresses.
    pub clients: Vec<String>,
    /// Per host.
    pub hosts: Vec<HostFacts>,
}

/// What `vm-provision` says of one host.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct HostFacts {
    /// Its name.
    pub name: String,
    /// Its address.
    pub address: String,
    /// `server` or `client`.
    pub role: String,
    /// `changed`, `unchanged` or `failed`.
    pub result: String,
}

/// Reads zero or more facts documents from `text` (empty text is none).
/// Errors say `<name>:line:col`.
pub fn parse(text: &str, name: &str) -> Result<Vec<ClusterFacts>, Error> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<ClusterFacts>()
        .map(|doc| {
            doc.map_err(|e| {
                Error::bad_input(format!(
                    "{name}:{}:{}: invalid cluster facts: {e}",
                    e.line(),
                    e.column()
                ))
            })
        })
        .collect()
}

/// The facts on standard input, when it is not a terminal.
pub fn from_stdin() -> Result<Vec<ClusterFacts>, Error> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(Vec::new());
    }
    let mut text = String::new();
    stdin
        .read_to_string(&mut text)
        .map_err(|e| Error::bad_input(format!("<stdin>: cannot read cluster facts: {e}")))?;
    parse(&text, "<stdin>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_documents_or_none() {
        assert!(parse("", "-").unwrap().is_empty());
        assert!(parse("  \n", "-").unwrap().is_empty());
        let two = parse(
            r#"{"region": "europe", "servers": ["10.0.0.1"], "extra": 1}
               {"region": "us", "datacenter": "aws-west2"}"#,
            "-",
        )
        .unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[0].servers, vec!["10.0.0.1"]);
        assert_eq!(two[1].datacenter.as_deref(), Some("aws-west2"));
    }

    #[test]
    fn errors_name_the_position() {
        let err = parse("{\"region\": }", "facts.json").unwrap_err();
        assert!(err.message.starts_with("facts.json:1:"), "{}", err.message);
        assert_eq!(err.exit, crate::Exit::BadInput);
        let err = parse("{\"servers\": \"x\"}", "-").unwrap_err();
        assert_eq!(err.exit, crate::Exit::BadInput);
    }
}
