# The inventory vm-provision reads (vm-provision/inventory.schema.json):
#   terraform output -json inventory | vm-provision
output "inventory" {
  description = "vm-provision inventory of datacenter gce-west1."
  value = {
    region     = var.nomad_region
    datacenter = var.datacenter
    ssh = {
      user          = var.ssh_user
      port          = 22
      identity_file = var.ssh_private_key_file
      known_hosts   = var.known_hosts_file
    }
    hosts = concat(
      [for vm in google_compute_instance.server : {
        name            = vm.name
        address         = vm.network_interface[0].access_config[0].nat_ip
        private_address = vm.network_interface[0].network_ip
        public_address  = vm.network_interface[0].access_config[0].nat_ip
        role            = "server"
        node_class      = null
        meta            = {}
      }],
      [for vm in google_compute_instance.client : {
        name            = vm.name
        address         = vm.network_interface[0].access_config[0].nat_ip
        private_address = vm.network_interface[0].network_ip
        public_address  = vm.network_interface[0].access_config[0].nat_ip
        role            = "client"
        node_class      = var.client_node_class
        meta            = { cloud = "gcp" }
      }],
    )
    consul = {
      version        = var.consul_version
      retry_join     = []
      retry_join_wan = var.consul_wan_join
    }
    nomad = {
      version = var.nomad_version
    }
  }
}

output "server_public_ips" {
  description = "Public addresses of the servers (WAN joins of the other datacenters)."
  value       = google_compute_instance.server[*].network_interface[0].access_config[0].nat_ip
}

output "client_public_ips" {
  description = "Public addresses of the clients (the web page is on port 80)."
  value       = google_compute_instance.client[*].network_interface[0].access_config[0].nat_ip
}
