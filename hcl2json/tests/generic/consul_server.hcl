# Consul server of datacenter gce-west1, joined over the WAN to france and aws-west2.
datacenter         = "gce-west1"
primary_datacenter = "gce-west1"
data_dir           = "/opt/consul"
server             = true
bootstrap_expect   = 3
bind_addr          = "{{ GetPrivateIP }}"
client_addr        = "0.0.0.0"
advertise_addr_wan = "35.187.12.34"
retry_join         = ["10.132.0.2", "10.132.0.3", "10.132.0.4"]
retry_join_wan     = ["51.38.12.1", "provider=aws tag_key=consul tag_value=server region=us-west-2"]
encrypt            = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="

ui_config {
  enabled = true
}

ports {
  dns      = 8600
  http     = 8500
  https    = -1
  grpc     = 8502
  serf_lan = 8301
  serf_wan = 8302
  server   = 8300
}

addresses {
  http = "127.0.0.1 {{ GetPrivateIP }}"
}

acl {
  enabled                  = true
  default_policy           = "deny"
  enable_token_persistence = true

  tokens {
    initial_management = "root"
    agent              = "agent-token"
  }
}

node_meta {
  role = "server"
}

connect {
  enabled = true
}

service {
  name = "web"
  port = 80
  tags = ["frontend", "v1"]

  check {
    id       = "web-http"
    http     = "http://localhost:80/health"
    interval = "10s"
    timeout  = "1s"
  }
}

service {
  name = "mongo"
  port = 27017
}
