variable "region" {
  type        = string
  description = "AWS region (the demo's datacenter aws-west2 is us-west-2)."
  default     = "us-west-2"
}

variable "availability_zone" {
  type        = string
  description = "Availability zone of the subnet."
  default     = "us-west-2a"
}

variable "nomad_region" {
  type        = string
  description = "Nomad region of this datacenter."
  default     = "us"
}

variable "datacenter" {
  type        = string
  description = "Consul and Nomad datacenter name."
  default     = "aws-west2"
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

variable "instance_type" {
  type        = string
  description = "Instance type of every VM."
  default     = "t3.medium"
}

variable "ami" {
  type        = string
  description = "AMI of every VM; null: the latest official Debian 12 (amd64)."
  default     = null
}

variable "vpc_cidr" {
  type        = string
  description = "Range of the VPC."
  default     = "10.3.0.0/16"
}

variable "subnet_cidr" {
  type        = string
  description = "Range of the datacenter's subnet, inside vpc_cidr."
  default     = "10.3.0.0/24"
}

variable "ssh_user" {
  type        = string
  description = "Default user of the AMI (official Debian AMIs: admin, passwordless sudo)."
  default     = "admin"
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
  description = "Public addresses of europe's Consul servers to WAN-join (server_public_ips of infra/gcp and infra/ovh)."
  default     = []
}
