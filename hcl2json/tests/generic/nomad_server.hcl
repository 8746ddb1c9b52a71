# Nomad server agent of region europe, datacenter gce-west1.
datacenter = "gce-west1"
region     = "europe"
data_dir   = "/opt/nomad/data"
bind_addr  = "0.0.0.0"
log_level  = "INFO"
name       = "nomad-server-1"

advertise {
  http = "{{ GetInterfaceIP \"eth0\" }}"
  rpc  = "10.132.0.2"
  serf = "10.132.0.2:4648"
}

addresses {
  http = "0.0.0.0"
  rpc  = "{{ GetPrivateIP }}"
}

ports {
  http = 4646
  rpc  = 4647
  serf = 4648
}

server {
  enabled          = true
  bootstrap_expect = 3
  encrypt          = "cg8StVXbQJ0gPvMd9o7yrg=="
  raft_protocol    = 3

  server_join {
    retry_join     = ["10.132.0.2", "10.132.0.3", "provider=gce project_name=pcd tag_value=nomad-server"]
    retry_max      = 5
    retry_interval = "15s"
  }

  default_scheduler_config {
    scheduler_algorithm = "spread"

    preemption_config {
      batch_scheduler_enabled   = true
      service_scheduler_enabled = false
    }
  }
}

consul {
  address             = "127.0.0.1:8500"
  server_service_name = "nomad"
  auto_advertise      = true
  server_auto_join    = true
  client_auto_join    = true
}

acl {
  enabled    = true
  token_ttl  = "30s"
  policy_ttl = "60s"
}

tls {
  http = true
  rpc  = true

  ca_file   = "/etc/nomad.d/tls/nomad-ca.pem"
  cert_file = "/etc/nomad.d/tls/server.pem"
  key_file  = "/etc/nomad.d/tls/server-key.pem"

  verify_server_hostname = true
  verify_https_client    = false
}

telemetry {
  collection_interval        = "1s"
  disable_hostname           = true
  prometheus_metrics         = true
  publish_allocation_metrics = true
}
