resource "openstack_compute_keypair_v2" "demo" {
  name       = "pcd2017-${var.datacenter}"
  public_key = trimspace(file(pathexpand(var.ssh_public_key_file)))
}

resource "openstack_compute_instance_v2" "server" {
  count = var.server_count

  name            = "ovh-server-${count.index + 1}"
  flavor_name     = var.flavor
  image_name      = var.image
  key_pair        = openstack_compute_keypair_v2.demo.name
  security_groups = [openstack_networking_secgroup_v2.demo.name]

  # First the public network (SSH, WAN gossip), then the private one (LAN).
  network {
    uuid = data.openstack_networking_network_v2.public.id
  }

  network {
    uuid = openstack_networking_network_v2.private.id
  }

  depends_on = [openstack_networking_subnet_v2.private]
}

resource "openstack_compute_instance_v2" "client" {
  count = var.client_count

  name            = "ovh-client-${count.index + 1}"
  flavor_name     = var.flavor
  image_name      = var.image
  key_pair        = openstack_compute_keypair_v2.demo.name
  security_groups = [openstack_networking_secgroup_v2.demo.name]

  network {
    uuid = data.openstack_networking_network_v2.public.id
  }

  network {
    uuid = openstack_networking_network_v2.private.id
  }

  depends_on = [openstack_networking_subnet_v2.private]
}
