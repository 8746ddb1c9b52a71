# Terraform: settings, providers, resources, data sources and outputs.
// A second comment style.
/* And a
   block comment. */

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }

  backend "s3" {
    bucket = "tf-state"
    key    = "nomad/terraform.tfstate"
    region = "eu-west-1"
  }
}

provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-west-2" # trailing comment
}

resource "aws_instance" "server" {
  count         = 3
  ami           = data.aws_ami.ubuntu.id
  instance_type = "t3.medium" // another trailing comment
  subnet_id     = aws_subnet.main.id
  /* inline block comment */ monitoring = true

  root_block_device {
    volume_size = 50
    volume_type = "gp3"
  }

  ebs_block_device {
    device_name = "/dev/sdf"
    volume_size = 100
  }

  ebs_block_device {
    device_name = "/dev/sdg"
    volume_size = 200
  }

  tags = {
    Name = "nomad-server-${count.index}"
    Role = "server"
  }

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [tags, ami]
  }
}

resource "aws_instance" "client" {
  ami           = data.aws_ami.ubuntu.id
  instance_type = "t3.large"
  provider      = aws.us
}

resource "aws_security_group" "nomad" {
  name = "nomad"

  ingress {
    from_port   = 4646
    to_port     = 4648
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }

  ingress {
    from_port   = 8300
    to_port     = 8302
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8", "172.16.0.0/12"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"]

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"]
  }
}

output "server_ips" {
  value = aws_instance.server[*].private_ip
}
