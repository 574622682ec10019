#!/usr/bin/env bash
# Make sure a RabbitMQ broker answers on 127.0.0.1:5672.
# Reuses a running broker; otherwise installs rabbitmq-server (Debian) when missing and starts a local node.
# Writes var/services/rabbitmq.env with the URL the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/services
HOST=127.0.0.1 PORT=${RENKEI_AMQP_PORT:-5672}

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$PORT" 2>/dev/null; }

if answers; then
  echo "rabbitmq: reusing the broker on $HOST:$PORT"
else
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "rabbitmq: rabbitmq-server is not installed and this is not root; install it with 'apt-get install rabbitmq-server'" >&2
      exit 1
    fi
    echo "rabbitmq: installing rabbitmq-server with apt-get (about 15 s)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  fi
  echo "rabbitmq: starting a local node"
  # systemd does not run here, so the package's service never starts by itself.
  rabbitmq-server -detached >/dev/null 2>&1 || true
  # The node registers with epmd a few seconds after -detached returns (longer on a loaded machine), and
  # await_startup fails at once until it has: retry it within a bounded wait.
  for _ in $(seq 1 30); do
    rabbitmqctl -q await_startup --timeout 10 >/dev/null 2>&1 && break
    sleep 3
  done
  for _ in $(seq 1 30); do answers && break; sleep 1; done
  answers || { echo "rabbitmq: the broker did not answer on $HOST:$PORT" >&2; exit 1; }
  echo "rabbitmq: running on $HOST:$PORT"
fi
# at-least-once dead-lettering is throttled by this prefetch (default 32); raise it where we can.
rabbitmqctl -q eval 'application:set_env(rabbit, dead_letter_worker_consumer_prefetch, 512).' >/dev/null 2>&1 || true
echo "RENKEI_TEST_AMQP_URL=amqp://guest:guest@$HOST:$PORT/%2F" > var/services/rabbitmq.env
