variable "project" {
  type        = string
  description = "GCP project ID the VMs are created in."
}

variable "region" {
  type        = string
  description = "GCP region (the demo's datacenter gce-west1 is europe-west1)."
  default     = "europe-west1"
}

variable "zone" {
  type        = string
  description = "GCP zone of the VMs."
  default     = "europe-west1-b"
}

variable "nomad_region" {
  type        = string
  description = "Nomad region of this datacenter."
  default     = "europe"
}

variable "datacenter" {
  type        = string
  description = "Consul and Nomad datacenter name."
  default     = "gce-west1"
}

variable "server_count" {
  type        = number
  description = "Consul + Nomad servers (3 for a quorum)."
  default     = 3
}

variable "client_count" {
  type        = number
  description = "Consul + Nomad clients that run the jobs."
  default     = 3
}

variable "client_node_class" {
  type        = string
  description = "Nomad node class of the clients (null: none)."
  default     = null
}

variable "machine_type" {
  type        = string
  description = "Machine type of every VM."
  default     = "e2-medium"
}

variable "image" {
  type        = string
  description = "Boot image of every VM (a Debian or Ubuntu with systemd)."
  default     = "debian-cloud/debian-12"
}

variable "subnet_cidr" {
  type        = string
  description = "Private range of the datacenter's subnet."
  default     = "10.1.0.0/24"
}

variable "ssh_user" {
  type        = string
  description = "User created on the VMs with the SSH key (passwordless sudo)."
  default     = "ops"
}

variable "ssh_public_key_file" {
  type        = string
  description = "Public key installed for ssh_user."
  default     = "~/.ssh/id_ed25519.pub"
}

variable "ssh_private_key_file" {
  type        = string
  description = "Private key vm-provision connects with (written to the inventory, never read here)."
  default     = "~/.ssh/id_ed25519"
}

variable "known_hosts_file" {
  type        = string
  description = "known_hosts file vm-provision checks the VMs' host keys against."
  default     = "~/.ssh/known_hosts"
}

variable "admin_cidrs" {
  type        = list(string)
  description = "Operator ranges allowed to SSH and to reach the Consul (8500) and Nomad (4646) HTTP APIs."
}

variable "federation_cidrs" {
  type        = list(string)
  description = "Public ranges of the other datacenters' servers (Consul WAN gossip and RPC, Nomad RPC and Serf)."
  default     = []
}

variable "consul_version" {
  type        = string
  description = "Consul version vm-provision installs."
  default     = "1.20.5"
}

variable "nomad_version" {
  type        = string
  description = "Nomad version vm-provision installs."
  default     = "1.9.7"
}

variable "consul_wan_join" {
  type        = list(string)
  description = "Public addresses of other datacenters' Consul servers to WAN-join (empty for the first datacenter)."
  default     = []
}
