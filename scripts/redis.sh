#!/usr/bin/env bash
# Starts a throwaway Redis server for tests (the redis-queue plugin reads real queues)
# and prints the URL to use on its last line of stdout. Idempotent: when the server it
# started before is still up, it only prints the URL again.
#
#   bash scripts/redis.sh          install (apt-get, as root) if needed, start, print URL
#   bash scripts/redis.sh stop     stop the server
#   bash scripts/redis.sh status   exit 0 when the server it started is up (installs nothing)
#
# The server listens on 127.0.0.1 only, on a free port, without persistence and without a
# password (tests add ACL users of their own): it is for tests, never for data anyone
# wants to keep. DYNOSAUR_REDIS_DIR moves it (default /tmp/dynosaur-redis; a test run gives it
# a folder of its own, removed when the run ends: scripts/test-servers.ts).
set -euo pipefail

dir="${DYNOSAUR_REDIS_DIR:-/tmp/dynosaur-redis}"
say() { echo "redis.sh: $*" >&2; }

# Test files run in parallel and may all call this at once: one at a time.
# Nothing was started here, so there is nothing to stop or report: make no folder for it.
if [ ! -d "$dir" ] && { [ "${1:-}" = stop ] || [ "${1:-}" = status ]; }; then
  [ "${1:-}" = stop ] && say "not running"
  [ "${1:-}" = stop ]; exit
fi
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

pid_alive() { [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }
if [ "${1:-}" = status ]; then
  pid_alive
  exit $?
fi

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    say "Redis is not installed and installing it needs root: apt-get install redis-server"
    exit 1
  fi
  say "installing Redis (apt-get install redis-server)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends redis-server >&2 9>&- ||
    { apt-get update -qq >&2 9>&- && apt-get install -y -qq --no-install-recommends redis-server >&2 9>&-; }
  command -v redis-server >/dev/null 2>&1 || { say "redis-server installed but not on PATH"; exit 1; }
fi

ping() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }

if [ "${1:-}" = stop ]; then
  if pid_alive; then
    redis-cli -h 127.0.0.1 -p "$(cat "$dir/port")" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$dir/pid")"
  else
    say "not running"
  fi
  rm -f "$dir/pid"
  exit 0
fi

if pid_alive && [ -f "$dir/port" ] && ping "$(cat "$dir/port")"; then
  echo "redis://127.0.0.1:$(cat "$dir/port")"
  exit 0
fi

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_on() {
  # No RDB snapshots, no AOF: nothing of a test run outlives the server.
  redis-server --bind 127.0.0.1 --port "$1" --save "" --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$dir/pid" --logfile "$dir/server.log" --databases 64 9>&- || return 1
  for _ in $(seq 1 50); do
    ping "$1" && return 0
    sleep 0.1
  done
  return 1
}

port="$(cat "$dir/port" 2>/dev/null || echo $((63790 + RANDOM % 1000)))"
for _ in $(seq 1 20); do
  if ! port_in_use "$port" && start_on "$port"; then
    echo "$port" >"$dir/port"
    echo "redis://127.0.0.1:$port"
    exit 0
  fi
  port=$((63790 + RANDOM % 1000))
done
say "could not start Redis; its log:"
tail -n 30 "$dir/server.log" >&2 || true
exit 1
