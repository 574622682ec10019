#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 with a test database.
# Starts Debian's packaged cluster (installed but stopped on a new machine) when nothing answers,
# then creates the role and database the tests use. Writes var/services/postgres.env.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/services
HOST=127.0.0.1 PORT=${RENKEI_PG_PORT:-5432}
ROLE=renkei_test DB=renkei_test PASS=renkei_test_only

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$PORT" 2>/dev/null; }

if ! answers; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "postgres: PostgreSQL is not installed and this is not root; install postgresql-15" >&2
      exit 1
    fi
    echo "postgres: installing postgresql with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  VERSION=$(ls /etc/postgresql | sort -n | tail -1)
  echo "postgres: starting the packaged cluster $VERSION/main"
  pg_ctlcluster "$VERSION" main start
  for _ in $(seq 1 30); do answers && break; sleep 1; done
  answers || { echo "postgres: the server did not answer on $HOST:$PORT" >&2; exit 1; }
else
  echo "postgres: reusing the server on $HOST:$PORT"
fi
psql_su() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" "$@"; }
if [ "$(id -u)" = 0 ]; then
  psql_su -tc "SELECT 1 FROM pg_roles WHERE rolname='$ROLE'" | grep -q 1 \
    || psql_su -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASS'"
  psql_su -tc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 \
    || psql_su -c "CREATE DATABASE $DB OWNER $ROLE"
fi
echo "RENKEI_TEST_PG_URL=postgresql+psycopg://$ROLE:$PASS@$HOST:$PORT/$DB" > var/services/postgres.env
