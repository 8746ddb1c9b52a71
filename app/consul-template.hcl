# consul-template configuration of the demo app's container.
#
# The Consul address is not set here: consul-template reads CONSUL_HTTP_ADDR
# (the job sets it to the node's agent, http://<node IP>:8500).

# SIGTERM (docker stop, Nomad) stops consul-template gracefully: it sends
# nginx SIGQUIT (graceful shutdown) and waits for it, up to kill_timeout.
kill_signal = "SIGTERM"

consul {
  retry {
    enabled     = true
    attempts    = 0
    backoff     = "250ms"
    max_backoff = "30s"
  }
}

# Wait a little for the catalog to settle before re-rendering: a deployment
# changes several services within seconds.
wait {
  min = "2s"
  max = "10s"
}

template {
  source      = "/etc/consul-template/index.html.ctmpl"
  destination = "/usr/share/nginx/html/index.html"
  perms       = 0644
}

# consul-template supervises nginx: it starts it once the page is rendered,
# sends it SIGHUP (reload) after each new rendering, forwards signals, and
# exits with it.
exec {
  command       = ["nginx", "-g", "daemon off;"]
  reload_signal = "SIGHUP"
  kill_signal   = "SIGQUIT"
  kill_timeout  = "10s"
}
