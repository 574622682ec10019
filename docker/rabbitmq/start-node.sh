#!/bin/bash
# Entry point of a RabbitMQ node in docker/compose.yaml: install the cluster's shared Erlang cookie from
# the docker secret, then hand over to the image's own entrypoint (which drops to the rabbitmq user).
#
# Why not mount the secret at /var/lib/rabbitmq/.erlang.cookie: Compose bind-mounts file secrets with the
# host file's owner and mode, Erlang refuses a cookie that others can read, and the image's entrypoint
# chowns /var/lib/rabbitmq, which fails on a read-only mount. A copy owned by rabbitmq, mode 0400, works.
set -euo pipefail
install -o rabbitmq -g rabbitmq -m 0400 /run/secrets/erlang_cookie /var/lib/rabbitmq/.erlang.cookie
exec docker-entrypoint.sh "$@"
