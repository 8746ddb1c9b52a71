# Stage 4 of the demo: the job `pcd2017`, version 2. Region europe now has
# two datacenters (gce-west1 on GCP, france on OVH): the web servers may run
# in both, and the database is pinned to france's client of node class
# `data` (the OVH host with the data disk).
#
#   job-submit jobs/pcd2017-v2.nomad
#   job-submit jobs/pcd2017-v2.nomad --var 'datacenters=["france"]'
#
# Same container layout as version 1 (jobs/pcd2017.nomad): nginx listens on
# 8080 unprivileged in the container, published on the node's static port 80.

variable "image" {
  type        = string
  description = "Docker image of the demo app (app/)."
  default     = "pcd2017/demo-app:2.0"
}

variable "datacenters" {
  type        = list(string)
  description = "Datacenters of region europe the job may run in."
  default     = ["gce-west1", "france"]
}

job "pcd2017" {
  region      = "europe"
  datacenters = var.datacenters
  type        = "service"

  update {
    max_parallel      = 1
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "3m"
    progress_deadline = "10m"
    auto_revert       = true
  }

  group "webs" {
    count = 2

    network {
      port "http" {
        static = 80
        to     = 8080
      }
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "15s"
      mode     = "delay"
    }

    service {
      name     = "frontend"
      provider = "consul"
      port     = "http"
      tags     = ["web", "${node.datacenter}"]

      check {
        name     = "frontend http"
        type     = "http"
        path     = "/"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "frontend" {
      driver = "docker"

      config {
        image = var.image
        ports = ["http"]
      }

      # consul-template in the container reads the catalog from the node's
      # Consul agent (its HTTP API listens on every interface).
      env {
        CONSUL_HTTP_ADDR = "http://${attr.unique.network.ip-address}:8500"
      }

      resources {
        cpu    = 200
        memory = 128
      }
    }
  }

  group "database" {
    count = 1

    # Operator `=` is implied: both must hold on the node.
    constraint {
      attribute = "${node.class}"
      value     = "data"
    }

    constraint {
      attribute = "${node.datacenter}"
      value     = "france"
    }

    network {
      port "db" {
        static = 27017
        to     = 27017
      }
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "15s"
      mode     = "delay"
    }

    service {
      name     = "mongo"
      provider = "consul"
      port     = "db"
      tags     = ["db", "${node.datacenter}"]

      check {
        name     = "mongo tcp"
        type     = "tcp"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "mongo" {
      driver = "docker"

      config {
        image = "mongo:7.0"
        ports = ["db"]
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}
