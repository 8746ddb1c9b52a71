#!/bin/sh
# Starts consul-template, which renders the index page from the Consul
# catalog and then runs nginx (see consul-template.hcl).
set -eu

# The job passes the node's agent (CONSUL_HTTP_ADDR). Without it, a Consul
# agent on 127.0.0.1 is assumed, which only works with --network host.
: "${CONSUL_HTTP_ADDR:=http://127.0.0.1:8500}"
export CONSUL_HTTP_ADDR

echo "consul-template $(consul-template -v 2>&1 | head -n 1), Consul at ${CONSUL_HTTP_ADDR}" >&2
exec consul-template -config /etc/consul-template/consul-template.hcl "$@"
