terraform {
  required_version = ">= 1.5"

  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = "~> 3.0"
    }
  }
}

# Credentials come from the OpenStack RC file of the OVHcloud Public Cloud
# project (OS_AUTH_URL, OS_PROJECT_ID, OS_USERNAME, OS_PASSWORD, ...):
# `source openrc.sh` before `terraform apply`.
provider "openstack" {
  region = var.region
}
