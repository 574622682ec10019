#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the console's browser tests (tests/browser), with a Japanese
# font (fonts-ipafont-gothic) so that the console's Japanese labels render in its screenshots.
# Playwright drives /usr/bin/chromium; it never downloads a browser of its own (`playwright install` is
# never run: the machines reach the package registries only).
set -euo pipefail

FONT=/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf
if [[ -x /usr/bin/chromium && -e $FONT ]]; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-chromium: install as root: apt-get install -y chromium fonts-ipafont-gothic" >&2
    exit 0  # the browser tests skip (or fail under CI) without chromium; without the font, shots show boxes
fi
echo "ensure-chromium: installing Debian's chromium and fonts-ipafont-gothic packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium fonts-ipafont-gothic >/dev/null
/usr/bin/chromium --version >&2
