//! The Consul catalog of the agent doubles across two WAN-joined datacenters (`?dc=`
//! forwarding, agent service registration, health, blocking reads) and a Nomad client
//! registering its allocations' services in its local Consul agent. In-process agents on
//! 127.0.64-65.x.

mod agent_support;

use std::time::{Duration, Instant};

use agent_support::{consul_agent, get_json, http, nomad_agent, wait_for};
use api_double::agent::{ConsulRole, NomadRole};
use serde_json::{json, Value};

fn names(list: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn catalog_across_datacenters() {
    let gce = consul_agent("cs-gce", "127.0.64.1", ConsulRole::server("gce-west1"));
    let gce_client = consul_agent(
        "cc-gce",
        "127.0.64.2",
        ConsulRole::client("gce-west1").with_retry_join(&["127.0.64.1"]),
    );
    let mut fr_role = ConsulRole::server("france");
    fr_role.retry_join_wan = vec!["127.0.64.1".into()];
    let fr = consul_agent("cs-fr", "127.0.64.3", fr_role);
    let fr_client = consul_agent(
        "cc-fr",
        "127.0.64.4",
        ConsulRole::client("france").with_retry_join(&["127.0.64.3"]),
    );
    let gce_url = gce.consul_address().unwrap();
    let gce_client_url = gce_client.consul_address().unwrap();
    let fr_client_url = fr_client.consul_address().unwrap();
    wait_for(10, "both datacenters with two nodes each", || {
        let dcs = get_json(&format!("{gce_url}/v1/catalog/datacenters"));
        let here = get_json(&format!("{gce_url}/v1/catalog/nodes"));
        let there = get_json(&format!("{}/v1/catalog/nodes", fr.consul_address()?));
        (dcs.as_array()?.len() == 2 && here.as_array()?.len() == 2 && there.as_array()?.len() == 2)
            .then_some(())
    });
    let nodes = get_json(&format!("{gce_url}/v1/catalog/nodes"));
    assert_eq!(names(&nodes, "Node"), ["cc-gce", "cs-gce"]);
    let node = &nodes[0];
    assert_eq!(node["Datacenter"], "gce-west1");
    assert_eq!(node["TaggedAddresses"]["lan"], node["Address"]);
    assert!(node["Meta"].is_object() && node["ID"].is_string());

    // ?dc= from a client: through its server, then over the WAN.
    let remote = get_json(&format!("{gce_client_url}/v1/catalog/nodes?dc=france"));
    assert_eq!(names(&remote, "Node"), ["cc-fr", "cs-fr"]);
    assert!(remote
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["Datacenter"] == "france"));
    let (status, _, body) = http("GET", &format!("{gce_url}/v1/catalog/nodes?dc=mars"), None);
    assert_eq!((status, body.as_str()), (500, "No path to datacenter"));

    // A service registered on the france client shows up everywhere.
    let reg = json!({"Name": "mongo", "Port": 27017, "Tags": ["db"]});
    let (status, _, body) = http(
        "PUT",
        &format!("{fr_client_url}/v1/agent/service/register"),
        Some(&reg),
    );
    assert_eq!((status, body.as_str()), (200, ""));
    let services = wait_for(10, "mongo in the france catalog, seen from gce", || {
        let s = get_json(&format!("{gce_url}/v1/catalog/services?dc=france"));
        s.get("mongo").is_some().then_some(s)
    });
    assert_eq!(services, json!({"consul": [], "mongo": ["db"]}));
    let instances = get_json(&format!(
        "{gce_client_url}/v1/catalog/service/mongo?dc=france"
    ));
    assert_eq!(instances.as_array().unwrap().len(), 1);
    let m = &instances[0];
    assert_eq!(
        (m["Node"].clone(), m["Address"].clone()),
        (json!("cc-fr"), json!("127.0.64.4"))
    );
    assert_eq!(
        (m["ServiceID"].clone(), m["ServicePort"].clone()),
        (json!("mongo"), json!(27017))
    );
    assert_eq!(m["Datacenter"], "france");
    let health = get_json(&format!(
        "{gce_url}/v1/health/service/mongo?dc=france&passing"
    ));
    assert_eq!(health[0]["Service"]["Service"], "mongo");
    assert_eq!(health[0]["Node"]["Node"], "cc-fr");
    assert_eq!(health[0]["Checks"][0]["Status"], "passing");
    let node = get_json(&format!("{gce_url}/v1/catalog/node/cc-fr?dc=france"));
    assert_eq!(node["Node"]["Node"], "cc-fr");
    assert_eq!(node["Services"]["mongo"]["Port"], 27017);
    let local = get_json(&format!("{fr_client_url}/v1/agent/services"));
    assert_eq!(local["mongo"]["Port"], 27017);
    assert!(get_json(&format!("{gce_url}/v1/catalog/service/mongo"))
        .as_array()
        .unwrap()
        .is_empty());

    // Blocking read: same index until something changes or the wait ends.
    let (_, headers, _) = http("GET", &format!("{gce_url}/v1/catalog/services"), None);
    let index = headers
        .iter()
        .find(|(k, _)| k == "x-consul-index")
        .unwrap()
        .1
        .clone();
    let start = Instant::now();
    let (status, headers, _) = http(
        "GET",
        &format!("{gce_url}/v1/catalog/services?index={index}&wait=600ms"),
        None,
    );
    assert_eq!(status, 200);
    assert!(start.elapsed() >= Duration::from_millis(500));
    assert!(headers
        .iter()
        .any(|(k, v)| k == "x-consul-index" && *v == index));

    // Deregister.
    let url = format!("{fr_client_url}/v1/agent/service/deregister/mongo");
    assert_eq!(http("PUT", &url, None).0, 200);
    assert_eq!(http("PUT", &url, None).0, 404);
    wait_for(10, "mongo gone", || {
        let s = get_json(&format!("{gce_url}/v1/catalog/services?dc=france"));
        s.get("mongo").is_none().then_some(())
    });
}

#[test]
fn nomad_client_registers_its_services_in_consul() {
    let consul = consul_agent("fr-data", "127.0.65.2", ConsulRole::server("france"));
    let server = nomad_agent(
        "eu-1",
        "127.0.65.1",
        NomadRole::server("europe", "gce-west1"),
    );
    let _client = nomad_agent(
        "fr-data",
        "127.0.65.2",
        NomadRole::client("europe", "france")
            .with_retry_join(&["127.0.65.1"])
            .with_consul_address("127.0.65.2:8500"),
    );
    let nomad_url = server.nomad_address().unwrap();
    let consul_url = consul.consul_address().unwrap();
    wait_for(10, "the client node", || {
        let nodes = get_json(&format!("{nomad_url}/v1/nodes"));
        (nodes.as_array()?.len() == 1).then_some(())
    });
    let job = json!({"Job": {
        "ID": "pcd2017", "Type": "service", "Datacenters": ["france"],
        "TaskGroups": [{"Name": "webs", "Count": 1, "Tasks": [{
            "Name": "frontend", "Driver": "docker",
            "Services": [{"Name": "frontend", "PortLabel": "http", "Tags": ["web", "${node.datacenter}"]}],
            "Resources": {"Networks": [{"ReservedPorts": [{"Label": "http", "Value": 80}]}]},
        }]}],
    }});
    let (status, _, body) = http("PUT", &format!("{nomad_url}/v1/jobs"), Some(&job));
    assert_eq!(status, 200, "{body}");
    let instances = wait_for(10, "frontend in consul", || {
        let s = get_json(&format!("{consul_url}/v1/catalog/service/frontend"));
        (!s.as_array()?.is_empty()).then_some(s)
    });
    assert_eq!(instances[0]["ServiceAddress"], "127.0.65.2");
    assert_eq!(instances[0]["ServicePort"], 80);
    assert_eq!(instances[0]["ServiceTags"], json!(["web", "france"]));
    assert!(instances[0]["ServiceID"]
        .as_str()
        .unwrap()
        .starts_with("_nomad-task-"));
    let client = get_json(&format!("{consul_url}/v1/catalog/service/nomad-client"));
    assert_eq!(client[0]["ServicePort"], 4646);
    assert_eq!(client[0]["ServiceTags"], json!(["http"]));

    // Anti-entropy: a leftover registration goes, a lost one comes back.
    let frontend_id = instances[0]["ServiceID"].as_str().unwrap().to_string();
    let stale =
        json!({"ID": "_nomad-task-gone-frontend-frontend-http", "Name": "frontend", "Port": 80});
    let url = format!("{consul_url}/v1/agent/service/register");
    assert_eq!(http("PUT", &url, Some(&stale)).0, 200);
    let url = format!("{consul_url}/v1/agent/service/deregister/{frontend_id}");
    assert_eq!(http("PUT", &url, None).0, 200);
    wait_for(10, "the registrations repaired", || {
        let local = get_json(&format!("{consul_url}/v1/agent/services"));
        let ids: Vec<&String> = local
            .as_object()?
            .keys()
            .filter(|k| k.starts_with("_nomad-task-"))
            .collect();
        (ids == [&frontend_id]).then_some(())
    });

    let (status, _, _) = http("DELETE", &format!("{nomad_url}/v1/job/pcd2017"), None);
    assert_eq!(status, 200);
    wait_for(10, "frontend gone from consul", || {
        let s = get_json(&format!("{consul_url}/v1/catalog/service/frontend"));
        s.as_array()?.is_empty().then_some(())
    });
}
