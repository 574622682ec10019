#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the console's browser tests (tests/browser).
# Playwright drives /usr/bin/chromium; it never downloads a browser of its own (`playwright install` is
# never run: the machines reach the package registries only).
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-chromium: /usr/bin/chromium is missing; install it as root: apt-get install -y chromium" >&2
    exit 0  # the browser tests skip (or fail under CI) without it
fi
echo "ensure-chromium: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version >&2
