#!/usr/bin/env bash
# Make sure promtool is installed: `make test` checks and unit-tests docker/prometheus/alerts.yml with it.
# promtool comes with Debian's prometheus package. Its maintainer scripts would start the Prometheus server
# where an init system runs; a policy-rc.d that refuses every start keeps anything from starting (there is
# no systemd here anyway), and nothing the package installs is left running.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-promtool: promtool is missing; install it as root: apt-get install -y prometheus" >&2
    exit 0  # the rules tests skip (or fail under CI) without it
fi
echo "ensure-promtool: installing Debian's prometheus package (for promtool)" >&2
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# ensure-promtool: no service starts while packages install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
fi
cleanup() { if [[ $made_policy == 1 ]]; then rm -f "$policy"; fi; }
trap cleanup EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
if pgrep -x prometheus >/dev/null 2>&1; then
    echo "ensure-promtool: warning: a prometheus server runs (pid $(pgrep -x prometheus | tr '\n' ' ')); it was not started by this script's package install if policy-rc.d pre-existed" >&2
fi
promtool --version 2>&1 | head -1 >&2
