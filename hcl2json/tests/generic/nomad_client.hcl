datacenter = "france"
region     = "europe"
data_dir   = "/var/lib/nomad"
bind_addr  = "{{ GetPrivateInterfaces | include \"network\" \"10.0.0.0/8\" | attr \"address\" }}"

client {
  enabled           = true
  servers           = ["10.0.1.10:4647", "10.0.1.11:4647", "10.0.1.12:4647"]
  node_class        = "data"
  network_interface = "ens3"

  server_join {
    retry_join = ["provider=os tag_key=nomad-role tag_value=server"]
  }

  meta {
    rack         = "r1"
    storage-type = "ssd"
  }

  options = {
    "driver.raw_exec.enable"    = "1"
    "docker.privileged.enabled" = "true"
  }

  host_volume "mongo-data" {
    path      = "/srv/mongo"
    read_only = false
  }

  host_volume "certs" {
    path      = "/etc/ssl/certs"
    read_only = true
  }

  reserved {
    cpu            = 500
    memory         = 512
    reserved_ports = "22,80"
  }
}

plugin "docker" {
  config {
    allow_privileged = true

    volumes {
      enabled = true
    }

    gc {
      image       = true
      image_delay = "3m"
    }
  }
}

plugin "raw_exec" {
  config {
    enabled = true
  }
}

consul {
  address = "127.0.0.1:8500"
  token   = "b1gs33cr3t"
  ssl     = false
}

vault {
  enabled = false
}

tls {
  http      = true
  rpc       = true
  ca_file   = "/etc/nomad.d/tls/nomad-ca.pem"
  cert_file = "/etc/nomad.d/tls/client.pem"
  key_file  = "/etc/nomad.d/tls/client-key.pem"
}

acl {
  enabled = true
}
