#!/usr/bin/env bash
# Lint, type-check, then run the whole suite twice: on SQLite and on a fresh PostgreSQL database.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

echo "== ruff, mypy"
$BIN/ruff check src tests bench
$BIN/ruff format --check src tests bench
$BIN/mypy

# The browser tests drive Debian's chromium (Playwright cannot download its own browser here).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium for the browser tests"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

echo "== tests on SQLite"
$BIN/pytest -q -p no:cacheprovider -n 2 "$@"

echo "== tests on PostgreSQL"
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
  fi
fi
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; then
  echo "PostgreSQL is not reachable at $PGHOST:$PGPORT: install it or set PGHOST/PGPORT/PGUSER." >&2
  exit 1
fi
DB="dropwire_test_$$"
psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
drop_test_databases() {
  for name in $DB ${DB}_gw0 ${DB}_gw1; do
    psql -q -d postgres -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap drop_test_databases EXIT
DROPWIRE_TEST_DATABASE_URL="postgresql+psycopg://$PGUSER@$PGHOST:$PGPORT/$DB" \
  $BIN/pytest -q -p no:cacheprovider -n 2 "$@"
