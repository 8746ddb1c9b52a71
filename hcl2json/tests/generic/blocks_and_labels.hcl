resource aws_instance web {
  ami = "ami-123"
}

resource "aws_instance" "web" { ami = "ami-456" }

resource "aws_eip" "web" {}

empty {}

empty {
}

module "consul" {
  source  = "hashicorp/consul/aws"
  version = "0.1.0"
  servers = 3
}

trailing_attr = "after blocks"

deep "a" "b" "c" {
  x = 1
}

deep "a" "b" "d" {
  x = 2
}

deep "a" "e" "c" {
  x = 3
}

outer {
  outer {
    outer {
      level = 3
    }
  }
}
