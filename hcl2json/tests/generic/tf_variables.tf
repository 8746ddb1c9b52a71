variable "region" {
  type        = string
  default     = "eu-west-1"
  description = "Region to deploy to"
}

variable "server_count" {
  type    = number
  default = 3

  validation {
    condition     = var.server_count % 2 == 1
    error_message = "The server count must be odd."
  }

  validation {
    condition     = var.server_count <= 7
    error_message = "At most 7 servers."
  }
}

variable "datacenters" {
  type    = list(string)
  default = ["gce-west1", "france"]
}

variable "node_meta" {
  type = map(object({
    class = string
    rack  = optional(string, "r1")
  }))
  default = {
    web = { class = "web" }
    db  = { class = "data", rack = "r2" }
  }
}

variable "enable_acl" {
  type      = bool
  default   = false
  sensitive = true
  nullable  = false
}

variable "token" {
  default = null
}

output "region" {
  value       = var.region
  description = "The region"
  sensitive   = false
}
