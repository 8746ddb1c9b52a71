terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

# Credentials from the usual AWS sources (AWS_PROFILE, environment, SSO).
provider "aws" {
  region = var.region
}
