data "openstack_networking_network_v2" "public" {
  name = var.public_network
}

resource "openstack_networking_network_v2" "private" {
  name           = "pcd2017-${var.datacenter}"
  admin_state_up = true
}

resource "openstack_networking_subnet_v2" "private" {
  name        = "pcd2017-${var.datacenter}"
  network_id  = openstack_networking_network_v2.private.id
  cidr        = var.subnet_cidr
  ip_version  = 4
  no_gateway  = true
  enable_dhcp = true
}

resource "openstack_networking_secgroup_v2" "demo" {
  name        = "pcd2017-${var.datacenter}"
  description = "Consul, Nomad and the demo job of datacenter ${var.datacenter}"
}

locals {
  # Inside the datacenter: Consul (server RPC 8300, LAN and WAN gossip
  # 8301-8302, HTTP 8500), Nomad (HTTP 4646, RPC 4647, Serf 4648), the web
  # app (80) and the database (27017).
  internal_rules = [
    { protocol = "tcp", port_range_min = 8300, port_range_max = 8302 },
    { protocol = "udp", port_range_min = 8301, port_range_max = 8302 },
    { protocol = "tcp", port_range_min = 8500, port_range_max = 8500 },
    { protocol = "tcp", port_range_min = 4646, port_range_max = 4648 },
    { protocol = "udp", port_range_min = 4648, port_range_max = 4648 },
    { protocol = "tcp", port_range_min = 80, port_range_max = 80 },
    { protocol = "tcp", port_range_min = 27017, port_range_max = 27017 },
  ]

  # Between datacenters and regions: Consul WAN gossip and server RPC,
  # Nomad RPC and Serf.
  federation_rules = [
    { protocol = "tcp", port_range_min = 8300, port_range_max = 8302 },
    { protocol = "udp", port_range_min = 8302, port_range_max = 8302 },
    { protocol = "tcp", port_range_min = 4646, port_range_max = 4648 },
    { protocol = "udp", port_range_min = 4648, port_range_max = 4648 },
  ]

  # The operator: SSH and the HTTP APIs the tools call.
  admin_rules = [
    { protocol = "tcp", port_range_min = 22, port_range_max = 22 },
    { protocol = "tcp", port_range_min = 8500, port_range_max = 8500 },
    { protocol = "tcp", port_range_min = 4646, port_range_max = 4646 },
  ]

  # One rule per (rule, source range): for_each keys must be known strings.
  rules = merge(
    { for i, r in local.internal_rules : "internal-${i}" => merge(r, { cidr = var.subnet_cidr }) },
    merge([for c in var.federation_cidrs : { for i, r in local.federation_rules : "federation-${i}-${c}" => merge(r, { cidr = c }) }]...),
    merge([for c in var.admin_cidrs : { for i, r in local.admin_rules : "admin-${i}-${c}" => merge(r, { cidr = c }) }]...),
    { web = { protocol = "tcp", port_range_min = 80, port_range_max = 80, cidr = "0.0.0.0/0" } },
  )
}

resource "openstack_networking_secgroup_rule_v2" "demo" {
  for_each = local.rules

  security_group_id = openstack_networking_secgroup_v2.demo.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = each.value.protocol
  port_range_min    = each.value.port_range_min
  port_range_max    = each.value.port_range_max
  remote_ip_prefix  = each.value.cidr
}
