#!/usr/bin/env bash
# Generate every secret docker/compose.yaml needs into docker/secrets (once per deployment).
#
#   docker/make-secrets.sh [--dir DIR] [--force]
#
# Writes: the Erlang cookie, one broker password per role, the database password, the env files rendered
# from docker/env/*.env.example (the same passwords inside RENKEI_AMQP_URL / RENKEI_DB_URL), the vault's
# keyrings (one per service, keys/<service>/keyring.json), the audit checkpoint signing key (Ed25519) with its public key, the console's session secret
# (and an empty users file for the operator to fill), Grafana's admin password. Run as root, it gives each
# file to the uid of the container that reads it (mode 0600), as compose mounts it. Existing files are kept unless
# --force is given: regenerating the keyrings makes every number in an existing vault unreadable.
#
# The keyrings are made by renkei itself: with the Python of the checkout (.venv) when there is one, else with
# the renkei image (docker run). Nothing is printed but file names.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="$HERE/secrets"
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    *) echo "usage: $0 [--dir DIR] [--force]" >&2; exit 2 ;;
  esac
done
ROLES=(hub operator console adapter-jlis adapter-pension adapter-intermediate_server adapter-eltax adapter-nta
  adapter-implementing_bodies simulator-jlis simulator-intermediate_server simulator-eltax simulator-nta
  simulator-implementing_bodies)
UID_RENKEI=10001
UID_GRAFANA=472
IMAGE="${IMAGE:-renkei:0.1.0}"
if [ -x "$HERE/../.venv/bin/python" ]; then
  PY=("$HERE/../.venv/bin/python")
else
  PY=(docker run --rm -i --entrypoint python "$IMAGE")
fi

umask 077
mkdir -p "$DIR/broker"

fresh() { [ "$FORCE" = 1 ] || [ ! -s "$1" ]; }
random() { python3 -c 'import secrets; print(secrets.token_urlsafe(32), end="")'; }
var_of() { echo "$1" | tr 'a-z-' 'A-Z_'; }

fresh "$DIR/erlang_cookie" && python3 -c 'import secrets; print(secrets.token_hex(32), end="")' >"$DIR/erlang_cookie"
fresh "$DIR/db_password" && random >"$DIR/db_password"
fresh "$DIR/console_session_secret" && random >"$DIR/console_session_secret"
fresh "$DIR/grafana_admin_password" && random >"$DIR/grafana_admin_password"
# Console users are people: the operator writes this file with hashes from `renkei console hash-password`
# (docs/console.md). An empty directory of users keeps the console from starting, by design.
[ -e "$DIR/console_users.toml" ] || : >"$DIR/console_users.toml"
for role in "${ROLES[@]}"; do
  fresh "$DIR/broker/$role" && random >"$DIR/broker/$role"
done

# Env files: every ${NAME} of the examples replaced by the matching secret (a missing one is an error).
declare -A values=([DB_PASSWORD]="$(cat "$DIR/db_password")")
for role in "${ROLES[@]}"; do values["BROKER_PASSWORD_$(var_of "$role")"]="$(cat "$DIR/broker/$role")"; done
for example in "$HERE"/env/*.env.example; do
  target="$DIR/$(basename "$example" .example)"
  args=()
  for name in "${!values[@]}"; do args+=("$name=${values[$name]}"); done
  python3 - "$example" "$target" "${args[@]}" <<'EOF'
import string, sys
example, target, *pairs = sys.argv[1:]
values = dict(pair.split("=", 1) for pair in pairs)
with open(example, encoding="utf-8") as src:
    text = string.Template(src.read()).substitute(values)
with open(target, "w", encoding="utf-8") as out:
    out.write(text)
EOF
done

# One keyring per service (docs/keys.md), each holding only the keys that service needs. An existing
# format-1 keyring ($DIR/keyring.json, every key in one file) is imported once: its vault keys stay, its
# sealing keys are kept for reading old values only; then destroy it and its copies.
if fresh "$DIR/keys/hub/keyring.json"; then
  if [ -s "$DIR/keyring.json" ] && [ "$FORCE" != 1 ]; then
    MAKE='import json, sys
from hub.infra.keys.keyring import keyring_from_v1_json as make, keyring_to_json
from hub.infra.keys.needs import cut
from hub.infra.service_names import SERVICE_NAMES
whole = make(sys.stdin.read())
print(json.dumps({s: keyring_to_json(cut(whole, s)) for s in SERVICE_NAMES}))'
    SOURCE="$DIR/keyring.json"
  else
    MAKE='import json
from hub.infra.keys.keyring import generate_keyring, keyring_to_json
from hub.infra.keys.needs import cut
from hub.infra.service_names import SERVICE_NAMES
whole = generate_keyring()
print(json.dumps({s: keyring_to_json(cut(whole, s)) for s in SERVICE_NAMES}))'
    SOURCE=/dev/null
  fi
  "${PY[@]}" -c "$MAKE" <"$SOURCE" | python3 -c '
import json, os, sys
root = sys.argv[1]
for service, text in json.load(sys.stdin).items():
    os.makedirs(os.path.join(root, service), mode=0o700, exist_ok=True)
    path = os.path.join(root, service, "keyring.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
' "$DIR/keys"
fi
if fresh "$DIR/audit-signing.pem"; then
  openssl genpkey -algorithm ed25519 -out "$DIR/audit-signing.pem"
  openssl pkey -in "$DIR/audit-signing.pem" -pubout -out "$DIR/audit-signing.pub.pem"
fi
# Compose bind-mounts file secrets with the host file's owner and mode, so each file is owned by the user of
# the container that reads it, mode 0600: renkei (uid 10001 in the image) reads the keyring, the audit
# signing key, the broker passwords (broker-definitions) and the console's users and session secret;
# Grafana (uid 472 in its image) its admin password; RabbitMQ and PostgreSQL read theirs as root. The env
# files are read by `docker compose` itself, on the host.
RENKEI_READS=("$DIR"/keys/*/keyring.json "$DIR/audit-signing.pem" "$DIR/console_users.toml" "$DIR/console_session_secret"
  "$DIR"/broker/*)
GRAFANA_READS=("$DIR/grafana_admin_password")
chmod 600 "$DIR"/erlang_cookie "$DIR"/db_password "$DIR"/*.env "${RENKEI_READS[@]}" "${GRAFANA_READS[@]}"
chmod 644 "$DIR/audit-signing.pub.pem"
chmod 700 "$DIR/keys" "$DIR"/keys/*
if [ "$(id -u)" = 0 ]; then
  chown "$UID_RENKEI:$UID_RENKEI" "${RENKEI_READS[@]}" "$DIR/keys" "$DIR"/keys/*
  chown "$UID_GRAFANA:$UID_GRAFANA" "${GRAFANA_READS[@]}"
else
  echo "make-secrets: as root, run: chown $UID_RENKEI:$UID_RENKEI ${RENKEI_READS[*]}" >&2
  echo "make-secrets: as root, run: chown $UID_GRAFANA:$UID_GRAFANA ${GRAFANA_READS[*]}" >&2
fi
echo "make-secrets: secrets in $DIR:"
(cd "$DIR" && ls -1 ./keys/*/keyring.json ./*.pem ./*.env ./*.toml erlang_cookie db_password console_session_secret \
  grafana_admin_password broker/* | sed 's|^\./||; s/^/  /')
echo "make-secrets: back up audit-signing.pub.pem and keys/ outside this machine (see docs/deploy.md, docs/keys.md)"
