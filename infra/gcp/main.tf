locals {
  ssh_keys = "${var.ssh_user}:${trimspace(file(pathexpand(var.ssh_public_key_file)))}"
}

resource "google_compute_instance" "server" {
  count = var.server_count

  name         = "gce-server-${count.index + 1}"
  machine_type = var.machine_type
  zone         = var.zone
  tags         = ["pcd2017-server"]

  boot_disk {
    initialize_params {
      image = var.image
      size  = 20
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.demo.id

    # An ephemeral public address: SSH from the operator, WAN gossip with
    # the other datacenters.
    access_config {}
  }

  metadata = {
    ssh-keys = local.ssh_keys
  }
}

resource "google_compute_instance" "client" {
  count = var.client_count

  name         = "gce-client-${count.index + 1}"
  machine_type = var.machine_type
  zone         = var.zone
  tags         = ["pcd2017-client"]

  boot_disk {
    initialize_params {
      image = var.image
      size  = 30
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.demo.id

    access_config {}
  }

  metadata = {
    ssh-keys = local.ssh_keys
  }
}
