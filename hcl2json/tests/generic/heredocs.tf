resource "nomad_job" "web" {
  jobspec = <<EOT
job "web" {
  datacenters = ["dc1"]
}
EOT
}

user_data = <<EOT
#!/bin/bash
echo "hello" # not a comment
  indented line
EOT

script = <<-EOT
    set -e
      nomad agent -config /etc/nomad.d
    done
    EOT

with_interp = <<EOT
server ${var.name} in ${var.dc}
EOT

indented_interp = <<-EOF
  name = "${var.name}"
  cost = "$${literal}"
  EOF

empty_heredoc = <<EOT
EOT

policy = <<POLICY
{
  "Version": "2012-10-17"
}
POLICY
