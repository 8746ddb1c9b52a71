# Debian's official AMIs (account 136693071363, Debian's cloud team).
data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"]

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

locals {
  ami = coalesce(var.ami, data.aws_ami.debian.id)
}

resource "aws_key_pair" "demo" {
  key_name   = "pcd2017-${var.datacenter}"
  public_key = trimspace(file(pathexpand(var.ssh_public_key_file)))
}

resource "aws_instance" "server" {
  count = var.server_count

  ami                    = local.ami
  instance_type          = var.instance_type
  subnet_id              = aws_subnet.demo.id
  key_name               = aws_key_pair.demo.key_name
  vpc_security_group_ids = [aws_security_group.demo.id]

  root_block_device {
    volume_size = 20
  }

  tags = {
    Name = "aws-server-${count.index + 1}"
  }
}

resource "aws_instance" "client" {
  count = var.client_count

  ami                    = local.ami
  instance_type          = var.instance_type
  subnet_id              = aws_subnet.demo.id
  key_name               = aws_key_pair.demo.key_name
  vpc_security_group_ids = [aws_security_group.demo.id]

  root_block_device {
    volume_size = 30
  }

  tags = {
    Name = "aws-client-${count.index + 1}"
  }
}
