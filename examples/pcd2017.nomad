# The job of the 2017 demo (stage 2), in the syntax of its time: network and
# ports inside `resources`, `update { stagger }`. Nomad 1.x still parses it.
job "pcd2017" {
  datacenters = ["gce-west1"]
  type        = "service"

  update {
    stagger      = "10s"
    max_parallel = 1
  }

  group "webs" {
    count = 2

    task "frontend" {
      driver = "docker"

      config {
        image = "thomasleveil/pcd2017:latest"
        port_map {
          http = 80
        }
      }

      service {
        name = "frontend"
        port = "http"
        tags = ["web", "${node.datacenter}"]

        check {
          type     = "http"
          path     = "/"
          interval = "10s"
          timeout  = "2s"
        }
      }

      resources {
        cpu    = 500
        memory = 128

        network {
          mbits = 10
          port "http" {
            static = 80
          }
        }
      }
    }
  }

  group "database" {
    count = 1

    task "mongo" {
      driver = "docker"

      config {
        image = "mongo:3.4"
      }

      service {
        name = "mongo"
        port = "db"
      }

      resources {
        cpu    = 500
        memory = 256

        network {
          mbits = 10
          port "db" {
            static = 27017
          }
        }
      }
    }
  }
}
