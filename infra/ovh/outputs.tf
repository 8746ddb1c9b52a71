# The inventory vm-provision reads (vm-provision/inventory.schema.json):
#   terraform output -json inventory | vm-provision
output "inventory" {
  description = "vm-provision inventory of datacenter france."
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
      [for vm in openstack_compute_instance_v2.server : {
        name            = vm.name
        address         = vm.network[0].fixed_ip_v4
        private_address = vm.network[1].fixed_ip_v4
        public_address  = vm.network[0].fixed_ip_v4
        role            = "server"
        node_class      = null
        meta            = {}
      }],
      [for i, vm in openstack_compute_instance_v2.client : {
        name            = vm.name
        address         = vm.network[0].fixed_ip_v4
        private_address = vm.network[1].fixed_ip_v4
        public_address  = vm.network[0].fixed_ip_v4
        role            = "client"
        node_class      = i < var.data_client_count ? "data" : null
        meta            = { cloud = "ovh" }
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
  value       = openstack_compute_instance_v2.server[*].network[0].fixed_ip_v4
}

output "client_public_ips" {
  description = "Public addresses of the clients (the web page is on port 80)."
  value       = openstack_compute_instance_v2.client[*].network[0].fixed_ip_v4
}
