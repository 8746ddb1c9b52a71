# The inventory vm-provision reads (vm-provision/inventory.schema.json):
#   terraform output -json inventory | vm-provision
output "inventory" {
  description = "vm-provision inventory of datacenter aws-west2."
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
      [for vm in aws_instance.server : {
        name            = vm.tags.Name
        address         = vm.public_ip
        private_address = vm.private_ip
        public_address  = vm.public_ip
        role            = "server"
        node_class      = null
        meta            = {}
      }],
      [for vm in aws_instance.client : {
        name            = vm.tags.Name
        address         = vm.public_ip
        private_address = vm.private_ip
        public_address  = vm.public_ip
        role            = "client"
        node_class      = var.client_node_class
        meta            = { cloud = "aws" }
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
  description = "Public addresses of the servers (WAN joins, nomad-join)."
  value       = aws_instance.server[*].public_ip
}

output "client_public_ips" {
  description = "Public addresses of the clients (the web page is on port 80)."
  value       = aws_instance.client[*].public_ip
}
