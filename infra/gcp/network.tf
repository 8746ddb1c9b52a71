resource "google_compute_network" "demo" {
  name                    = "pcd2017-${var.datacenter}"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "demo" {
  name          = "pcd2017-${var.datacenter}"
  network       = google_compute_network.demo.id
  region        = var.region
  ip_cidr_range = var.subnet_cidr
}

# Inside the datacenter: Consul (server RPC 8300, LAN and WAN gossip
# 8301-8302, HTTP 8500), Nomad (HTTP 4646, RPC 4647, Serf 4648), the web
# app (80) and the database (27017).
resource "google_compute_firewall" "internal" {
  name          = "pcd2017-${var.datacenter}-internal"
  network       = google_compute_network.demo.name
  source_ranges = [var.subnet_cidr]

  allow {
    protocol = "tcp"
    ports    = ["8300-8302", "8500", "4646-4648", "80", "27017"]
  }

  allow {
    protocol = "udp"
    ports    = ["8301-8302", "4648"]
  }
}

# Between datacenters and regions: Consul WAN gossip and server RPC, Nomad
# RPC and Serf (servers only).
resource "google_compute_firewall" "federation" {
  count = length(var.federation_cidrs) > 0 ? 1 : 0

  name          = "pcd2017-${var.datacenter}-federation"
  network       = google_compute_network.demo.name
  source_ranges = var.federation_cidrs
  target_tags   = ["pcd2017-server"]

  allow {
    protocol = "tcp"
    ports    = ["8300-8302", "4646-4648"]
  }

  allow {
    protocol = "udp"
    ports    = ["8302", "4648"]
  }
}

# The operator: SSH, and the Consul and Nomad HTTP APIs the tools call.
resource "google_compute_firewall" "admin" {
  name          = "pcd2017-${var.datacenter}-admin"
  network       = google_compute_network.demo.name
  source_ranges = var.admin_cidrs

  allow {
    protocol = "tcp"
    ports    = ["22", "8500", "4646"]
  }
}

# The demo's web page, open to everyone on the clients.
resource "google_compute_firewall" "web" {
  name          = "pcd2017-${var.datacenter}-web"
  network       = google_compute_network.demo.name
  source_ranges = ["0.0.0.0/0"]
  target_tags   = ["pcd2017-client"]

  allow {
    protocol = "tcp"
    ports    = ["80"]
  }
}
