#!/bin/bash
# One-shot broker-init of docker/compose.yaml: once all three nodes run as one cluster, import renkei's
# definitions (vhost, exchanges, quorum queues, bindings, users with their permissions) and remove the
# image's guest user.
#
# Why after the cluster has formed rather than at boot (load_definitions): a quorum queue gets its replicas
# on the nodes that are members when it is declared, and RabbitMQ 3.10 never adds replicas on nodes that
# join later (that takes `rabbitmq-queues grow`). Importing once three nodes run gives every queue three.
set -euo pipefail
NODE="${RABBITMQ_INIT_NODE:-rabbit@rabbitmq1}"
DEFINITIONS="${RABBITMQ_DEFINITIONS:-/definitions/definitions.json}"
install -m 0400 /run/secrets/erlang_cookie "$HOME/.erlang.cookie"

rabbitmqctl -q -n "$NODE" await_online_nodes 3 --timeout 300
rabbitmqctl -q -n "$NODE" import_definitions "$DEFINITIONS" --timeout 120
if rabbitmqctl -q -n "$NODE" list_users --formatter json | grep -q '"user":"guest"'; then
  rabbitmqctl -q -n "$NODE" delete_user guest
fi
# Every queue must have a replica on every node; grow any that does not (idempotent).
for member in rabbit@rabbitmq1 rabbit@rabbitmq2 rabbit@rabbitmq3; do
  rabbitmq-queues -q -n "$NODE" grow "$member" all --vhost-pattern '.*' --queue-pattern '.*' >/dev/null
done
echo "broker-init: definitions imported into a cluster of three nodes"
