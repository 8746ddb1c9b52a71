variable "region" {
  type        = string
  description = "OVHcloud Public Cloud region (OpenStack region name)."
  default     = "GRA11"
}

variable "nomad_region" {
  type        = string
  description = "Nomad region this datacenter joins."
  default     = "europe"
}

variable "datacenter" {
  type        = string
  description = "Consul and Nomad datacenter name."
  default     = "france"
}

variable "server_count" {
  type        = number
  description = "Consul + Nomad servers (3 for a quorum)."
  default     = 3
}

variable "client_count" {
  type        = number
  description = "Consul + Nomad clients that run the jobs."
  default     = 2
}

variable "data_client_count" {
  type        = number
  description = "How many of the clients (the first ones) get node class data: the job's database runs there."
  default     = 1
}

variable "flavor" {
  type        = string
  description = "Instance flavor of every VM."
  default     = "b3-8"
}

variable "image" {
  type        = string
  description = "Boot image name of every VM (a Debian or Ubuntu with systemd)."
  default     = "Debian 12"
}

variable "public_network" {
  type        = string
  description = "The public network of the region (OVHcloud: Ext-Net)."
  default     = "Ext-Net"
}

variable "subnet_cidr" {
  type        = string
  description = "Private range of the datacenter's network."
  default     = "10.2.0.0/24"
}

variable "ssh_user" {
  type        = string
  description = "Default user of the image (OVHcloud Debian images: debian, passwordless sudo)."
  default     = "debian"
}

variable "ssh_public_key_file" {
  type        = string
  description = "Public key registered as the instances' key pair."
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
  description = "Public addresses of gce-west1's Consul servers (terraform output -json server_public_ips in infra/gcp)."
  default     = []
}
