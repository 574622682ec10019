#!/usr/bin/env bash
# A three-node RabbitMQ 3.10 cluster on this machine, without containers, for cluster and fault tests.
#
#   scripts/rabbitmq-cluster.sh start  [--dir DIR]          start the nodes, form the cluster, wait for it
#   scripts/rabbitmq-cluster.sh stop   [--dir DIR] [--clean] stop every node (--clean: also delete DIR)
#   scripts/rabbitmq-cluster.sh status [--dir DIR]          exit 0 when three nodes run as one cluster
#   scripts/rabbitmq-cluster.sh stop-node N  [--dir DIR]    stop node N (1-3), the others keep running
#   scripts/rabbitmq-cluster.sh start-node N [--dir DIR]    start node N again and wait until it is back
#
# Nodes renkei1@localhost .. renkei3@localhost listen for AMQP on 127.0.0.1:5681..5683 (user guest/guest,
# loopback only) and for Erlang distribution on 127.0.0.1:25681..25683. Management is off. Each node keeps
# its database and logs under DIR/nodeN (default var/cluster); DIR/cluster.env gives the AMQP URLs.
# Partitions are handled with pause_minority, as in production: with two nodes stopped, the third pauses
# its broker (its VM stays up; `status` shows it as paused) until a peer returns.
#
# Why it runs rabbitmq-server from /usr/lib/rabbitmq/bin: the Debian wrapper in /usr/sbin switches from
# root to the rabbitmq user with `su`, which resets HOME to /var/lib/rabbitmq. The node would then read
# the main broker's Erlang cookie, and the rabbitmq user could not write under this repository. Run
# directly, the node runs as the invoking user (root here) with HOME=DIR/home, whose .erlang.cookie is
# shared by the three nodes and by every rabbitmqctl call this script makes (3.10 reads the cookie from
# $HOME/.erlang.cookie; RABBITMQ_ERLANG_COOKIE still works but the CLI warns that it is deprecated).
#
# It never touches the main broker (rabbit@<hostname> on 5672): every call names its node with -n, uses
# this cluster's cookie and ports, and nothing is ever killed by name. The Erlang port mapper (epmd,
# 127.0.0.1:4369) is shared with the main broker and left running. Every wait is bounded.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SBIN="${RABBITMQ_SBIN:-/usr/lib/rabbitmq/bin}"
NODES=(1 2 3)
AMQP_PORT_BASE=5680
DIST_PORT_BASE=25680
START_TIMEOUT_S=90   # one node from launch to a running broker application
JOIN_TIMEOUT_S=60    # the whole cluster to report three running nodes
STOP_TIMEOUT_S=60    # one node to shut down
CTL_TIMEOUT_S=20     # any other single rabbitmqctl call

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

die() { echo "rabbitmq-cluster: $*" >&2; exit 1; }
say() { echo "rabbitmq-cluster: $*"; }

# --- arguments -----------------------------------------------------------------------------------------
[ $# -ge 1 ] || usage
COMMAND="$1"; shift
NODE_ARG=""
if [ "$COMMAND" = stop-node ] || [ "$COMMAND" = start-node ]; then
  [ $# -ge 1 ] || usage
  NODE_ARG="$1"; shift
  case "$NODE_ARG" in 1|2|3) ;; *) die "node number must be 1, 2 or 3 (got '$NODE_ARG')" ;; esac
fi
DIR="$ROOT/var/cluster"
CLEAN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || usage; DIR="$2"; shift 2 ;;
    --dir=*) DIR="${1#--dir=}"; shift ;;
    --clean) CLEAN=1; shift ;;
    -h|--help) usage ;;
    *) die "unknown argument '$1'" ;;
  esac
done
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
HOME_DIR="$DIR/home"
MARKER="$DIR/.renkei-cluster"

[ -x "$SBIN/rabbitmq-server" ] && [ -x "$SBIN/rabbitmqctl" ] ||
  die "RabbitMQ is not installed in $SBIN (apt-get install rabbitmq-server, or set RABBITMQ_SBIN)"

node_name() { echo "renkei$1@localhost"; }
amqp_port() { echo $((AMQP_PORT_BASE + $1)); }
dist_port() { echo $((DIST_PORT_BASE + $1)); }
node_dir() { echo "$DIR/node$1"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# rabbitmqctl against one of this cluster's nodes, with this cluster's cookie, bounded in time.
ctl() {
  local n="$1"; shift
  HOME="$HOME_DIR" timeout "$((CTL_TIMEOUT_S + 10))" "$SBIN/rabbitmqctl" -q -n "$(node_name "$n")" "$@"
}

# The node's Erlang VM answers (its broker application may still be paused: see app_running).
running() { ctl "$1" --timeout 5 ping >/dev/null 2>&1; }

# The broker application runs (pause_minority stops it on a node that sees too few of its peers).
app_running() {
  HOME="$HOME_DIR" timeout "$((CTL_TIMEOUT_S + 10))" "$SBIN/rabbitmq-diagnostics" -q -n "$(node_name "$1")" \
    --timeout 5 check_running >/dev/null 2>&1
}

port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Nodes (of this cluster) that node $1 reports as running members, one per line.
running_members() {
  ctl "$1" --timeout "$CTL_TIMEOUT_S" cluster_status --formatter json 2>/dev/null |
    python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin).get("running_nodes", [])))'
}

prepare_dirs() {
  mkdir -p "$HOME_DIR"
  chmod 700 "$HOME_DIR"
  touch "$MARKER"
  if [ ! -s "$HOME_DIR/.erlang.cookie" ]; then
    # 40 random letters: the shared secret of the three nodes and the CLI (never the main broker's).
    (umask 077; python3 -c 'import secrets, string; print("".join(secrets.choice(string.ascii_uppercase) for _ in range(40)), end="")' >"$HOME_DIR/.erlang.cookie")
  fi
  chmod 400 "$HOME_DIR/.erlang.cookie"
  for n in "${NODES[@]}"; do
    local d; d="$(node_dir "$n")"
    mkdir -p "$d/mnesia" "$d/log"
    echo '[].' >"$d/enabled_plugins"  # no plugins: management off
    : >"$d/rabbitmq-env.conf"          # ignore /etc/rabbitmq/rabbitmq-env.conf of the main broker
    cat >"$d/rabbitmq.conf" <<EOF
# node $n of the local renkei test cluster (written by scripts/rabbitmq-cluster.sh)
cluster_partition_handling = pause_minority
EOF
  done
}

launch() {
  local n="$1" d; d="$(node_dir "$1")"
  if port_busy "$(amqp_port "$n")" || port_busy "$(dist_port "$n")"; then
    die "port $(amqp_port "$n") or $(dist_port "$n") is taken by something other than $(node_name "$n")"
  fi
  rm -f "$d/pid"
  # -detached returns at once; the node writes its pid file once the VM is up.
  (
    cd "$d"
    env HOME="$HOME_DIR" \
      RABBITMQ_NODENAME="$(node_name "$n")" \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
      RABBITMQ_NODE_PORT="$(amqp_port "$n")" \
      RABBITMQ_DIST_PORT="$(dist_port "$n")" \
      RABBITMQ_MNESIA_BASE="$d/mnesia" \
      RABBITMQ_LOG_BASE="$d/log" \
      RABBITMQ_PID_FILE="$d/pid" \
      RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
      RABBITMQ_CONF_ENV_FILE="$d/rabbitmq-env.conf" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
      ERL_EPMD_ADDRESS=127.0.0.1 \
      "$SBIN/rabbitmq-server" -detached >"$d/log/launch.out" 2>&1
  ) || die "could not launch $(node_name "$n"); see $d/log"
}

await_node() {
  local n="$1" d; d="$(node_dir "$1")"
  # `wait` follows the pid file: it returns once the broker application runs, fails as soon as the
  # process dies, and gives up after the timeout.
  if ! HOME="$HOME_DIR" timeout "$((START_TIMEOUT_S + 10))" "$SBIN/rabbitmqctl" -q -n "$(node_name "$n")" \
      wait "$d/pid" --timeout "$START_TIMEOUT_S" >/dev/null 2>&1; then
    echo "--- last lines of $d/log/$(node_name "$n").log:" >&2
    tail -n 20 "$d/log/$(node_name "$n").log" >&2 2>/dev/null || true
    die "$(node_name "$n") did not start within ${START_TIMEOUT_S}s"
  fi
}

is_member_of_1() { running_members 1 | grep -qx "$(node_name "$1")"; }

join() {
  local n="$1" log step; log="$(node_dir "$1")/log/join.log"
  : >"$log"
  # A node that is not yet a member holds no data of this cluster: reset it and join node 1. The CLI
  # reports the usual join-time warnings (feature flags, connection tracking) on stderr: keep them in the
  # log unless a step fails.
  for step in "stop_app" "reset" "join_cluster $(node_name 1)" "start_app"; do
    # shellcheck disable=SC2086 # the step's words are the command and its argument
    if ! ctl "$n" --timeout "$START_TIMEOUT_S" $step >>"$log" 2>&1; then
      tail -n 20 "$log" >&2
      die "$(node_name "$n"): '$step' failed; see $log"
    fi
  done
}

await_members() {
  local want="$1" deadline=$((SECONDS + JOIN_TIMEOUT_S)) count=0 n
  while [ "$SECONDS" -lt "$deadline" ]; do
    for n in "${NODES[@]}"; do
      if running "$n"; then
        count="$(running_members "$n" | grep -c . || true)"
        break
      fi
    done
    [ "$count" -ge "$want" ] && return 0
    sleep 1
  done
  die "the cluster reports $count running nodes, not $want, after ${JOIN_TIMEOUT_S}s"
}

write_env() {
  local urls=() n
  for n in "${NODES[@]}"; do urls+=("amqp://guest:guest@127.0.0.1:$(amqp_port "$n")/%2F"); done
  (IFS=,; echo "RENKEI_TEST_CLUSTER_AMQP_URLS=${urls[*]}") >"$DIR/cluster.env"
}

stop_one() {
  local n="$1" d pid; d="$(node_dir "$1")"
  running "$n" || return 0
  if ! HOME="$HOME_DIR" timeout "$((STOP_TIMEOUT_S + 10))" "$SBIN/rabbitmqctl" -q -n "$(node_name "$n")" \
      shutdown --timeout "$STOP_TIMEOUT_S" >/dev/null 2>&1; then
    # Last resort, for this node's own process only: the pid from its pid file, checked against its name.
    pid="$(cat "$d/pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(node_name "$n")"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
    running "$n" && die "$(node_name "$n") did not stop within ${STOP_TIMEOUT_S}s"
  fi
  return 0
}

# --- commands ------------------------------------------------------------------------------------------
cmd_start() {
  local t0 n launched=(); t0="$(now)"
  prepare_dirs
  for n in "${NODES[@]}"; do
    if running "$n"; then say "$(node_name "$n") already running"; else launch "$n"; launched+=("$n"); fi
  done
  # Launched together: a node restarted after `stop` waits for its peers, so none may wait for the others.
  for n in "${launched[@]}"; do await_node "$n"; done
  say "nodes up after $(since "$t0")s"
  for n in 2 3; do
    if ! is_member_of_1 "$n"; then
      local tj; tj="$(now)"
      join "$n"
      say "$(node_name "$n") joined $(node_name 1) in $(since "$tj")s"
    fi
  done
  await_members 3
  write_env
  say "three running nodes after $(since "$t0")s: AMQP on 127.0.0.1:$(amqp_port 1),$(amqp_port 2),$(amqp_port 3); URLs in $DIR/cluster.env"
}

cmd_stop() {
  local t0 n; t0="$(now)"
  for n in 3 2 1; do stop_one "$n"; done
  say "stopped in $(since "$t0")s"
  if [ "$CLEAN" = 1 ]; then
    [ -f "$MARKER" ] || die "$DIR was not made by this script; not deleting it"
    rm -rf "$DIR"
    say "deleted $DIR"
  fi
}

cmd_status() {
  local n up=0 members=""
  for n in "${NODES[@]}"; do
    if app_running "$n"; then
      up=$((up + 1))
      [ -n "$members" ] || members="$(running_members "$n" | tr '\n' ' ')"
      echo "$(node_name "$n")  running  amqp 127.0.0.1:$(amqp_port "$n")"
    elif running "$n"; then
      echo "$(node_name "$n")  paused   (VM up, broker stopped: it sees too few peers)"
    else
      echo "$(node_name "$n")  stopped"
    fi
  done
  echo "cluster members running: ${members:-none}"
  [ "$up" -eq 3 ] && [ "$(echo "$members" | wc -w)" -eq 3 ]
}

cmd_stop_node() {
  local t0; t0="$(now)"
  stop_one "$NODE_ARG"
  say "$(node_name "$NODE_ARG") stopped in $(since "$t0")s"
}

cmd_start_node() {
  local t0 n="$NODE_ARG"; t0="$(now)"
  [ -f "$MARKER" ] || die "no cluster in $DIR: run 'start' first"
  if running "$n"; then say "$(node_name "$n") already running"; return 0; fi
  launch "$n"
  await_node "$n"
  local want=0 m
  for m in "${NODES[@]}"; do running "$m" && want=$((want + 1)); done
  await_members "$want"
  say "$(node_name "$n") back in the cluster after $(since "$t0")s ($want running nodes)"
}

case "$COMMAND" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  stop-node) cmd_stop_node ;;
  start-node) cmd_start_node ;;
  *) usage ;;
esac
