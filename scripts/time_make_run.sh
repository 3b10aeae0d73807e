#!/bin/bash
# How long `make run` takes from a fresh clone, step by step, until /health answers: wall and CPU
# (user+sys, which load on a shared machine disturbs far less). Run niced; pass a free port.
#   scripts/time_make_run.sh [REPO (default: this checkout)] [PORT (default 18777)] [COMMIT]
set -euo pipefail
SRC=${1:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)}
PORT=${2:-18777}
DEST=$(mktemp -d /tmp/dropwire-make-run.XXXXXX)
git clone -q "$SRC" "$DEST/repo"
cd "$DEST/repo"
if [ -n "${3:-}" ]; then git checkout -q "$3"; fi
echo "commit: $(git rev-parse --short HEAD)"
step() {  # step NAME COMMAND...: its wall and CPU seconds
  local name=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$DEST/time" "$@" > "$DEST/$name.log" 2>&1
  read -r wall user sys < "$DEST/time"
  printf "%-22s %7.2f s wall %7.2f s CPU\n" "$name" "$wall" "$(echo "$user + $sys" | bc)"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
step install-runtime make install-runtime
if grep -q "dropwire quickstart" Makefile; then
  step quickstart env PYTHONDONTWRITEBYTECODE= .venv/bin/dropwire quickstart
else  # the steps `make run` took before `dropwire quickstart`
  step migrate .venv/bin/dropwire migrate
  step demo .venv/bin/dropwire demo
  step token-ensure .venv/bin/dropwire token ensure --name quickstart
  step user-ensure .venv/bin/dropwire user ensure admin@dropwire.local
fi
served=$(date +%s.%N)
DROPWIRE_PORT=$PORT DROPWIRE_ALLOWED_TARGET_NETWORKS=127.0.0.1/32 PYTHONDONTWRITEBYTECODE= \
  .venv/bin/dropwire serve \
  > "$DEST/serve.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$PORT/health" > /dev/null; do sleep 0.1; done
done_at=$(date +%s.%N)
# the CPU of the supervisor and of its children (API and worker processes) until then
ticks=$(cat /proc/$server/stat $(cat /proc/$server/task/*/children 2>/dev/null | sed 's|[0-9]*|/proc/&/stat|g') 2>/dev/null \
  | awk '{ sum += $14 + $15 } END { print sum }')
printf "%-22s %7.2f s wall %7.2f s CPU\n" "serve to /health" "$(echo "$done_at - $served" | bc)" \
  "$(echo "scale=2; $ticks / $(getconf CLK_TCK)" | bc)"
printf "%-22s %7.2f s wall\n" "make run, total" "$(echo "$done_at - $start" | bc)"
kill "$server"; wait "$server" 2> /dev/null || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$DEST"
