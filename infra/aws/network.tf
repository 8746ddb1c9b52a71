resource "aws_vpc" "demo" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "pcd2017-${var.datacenter}"
  }
}

resource "aws_internet_gateway" "demo" {
  vpc_id = aws_vpc.demo.id
}

resource "aws_subnet" "demo" {
  vpc_id                  = aws_vpc.demo.id
  cidr_block              = var.subnet_cidr
  availability_zone       = var.availability_zone
  map_public_ip_on_launch = true

  tags = {
    Name = "pcd2017-${var.datacenter}"
  }
}

resource "aws_route_table" "demo" {
  vpc_id = aws_vpc.demo.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.demo.id
  }
}

resource "aws_route_table_association" "demo" {
  subnet_id      = aws_subnet.demo.id
  route_table_id = aws_route_table.demo.id
}

resource "aws_security_group" "demo" {
  name        = "pcd2017-${var.datacenter}"
  description = "Consul, Nomad and the demo job of datacenter ${var.datacenter}"
  vpc_id      = aws_vpc.demo.id
}

locals {
  # Inside the datacenter: Consul (server RPC 8300, LAN and WAN gossip
  # 8301-8302, HTTP 8500), Nomad (HTTP 4646, RPC 4647, Serf 4648), the web
  # app (80) and the database (27017).
  internal_rules = [
    { ip_protocol = "tcp", from_port = 8300, to_port = 8302 },
    { ip_protocol = "udp", from_port = 8301, to_port = 8302 },
    { ip_protocol = "tcp", from_port = 8500, to_port = 8500 },
    { ip_protocol = "tcp", from_port = 4646, to_port = 4648 },
    { ip_protocol = "udp", from_port = 4648, to_port = 4648 },
    { ip_protocol = "tcp", from_port = 80, to_port = 80 },
    { ip_protocol = "tcp", from_port = 27017, to_port = 27017 },
  ]

  # Between datacenters and regions: Consul WAN gossip and server RPC,
  # Nomad RPC and Serf.
  federation_rules = [
    { ip_protocol = "tcp", from_port = 8300, to_port = 8302 },
    { ip_protocol = "udp", from_port = 8302, to_port = 8302 },
    { ip_protocol = "tcp", from_port = 4646, to_port = 4648 },
    { ip_protocol = "udp", from_port = 4648, to_port = 4648 },
  ]

  # The operator: SSH and the HTTP APIs the tools call.
  admin_rules = [
    { ip_protocol = "tcp", from_port = 22, to_port = 22 },
    { ip_protocol = "tcp", from_port = 8500, to_port = 8500 },
    { ip_protocol = "tcp", from_port = 4646, to_port = 4646 },
  ]

  # One rule per (rule, source range): for_each keys must be known strings.
  rules = merge(
    { for i, r in local.internal_rules : "internal-${i}" => merge(r, { cidr = var.subnet_cidr }) },
    merge([for c in var.federation_cidrs : { for i, r in local.federation_rules : "federation-${i}-${c}" => merge(r, { cidr = c }) }]...),
    merge([for c in var.admin_cidrs : { for i, r in local.admin_rules : "admin-${i}-${c}" => merge(r, { cidr = c }) }]...),
    { web = { ip_protocol = "tcp", from_port = 80, to_port = 80, cidr = "0.0.0.0/0" } },
  )
}

resource "aws_vpc_security_group_ingress_rule" "demo" {
  for_each = local.rules

  security_group_id = aws_security_group.demo.id
  ip_protocol       = each.value.ip_protocol
  from_port         = each.value.from_port
  to_port           = each.value.to_port
  cidr_ipv4         = each.value.cidr
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.demo.id
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
