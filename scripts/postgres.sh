#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for tests (the leader-lock tests need a real one)
# and prints the DATABASE_URL to use on its last line of stdout. Idempotent: when the
# server it started before is still up, it only prints the URL again.
#
#   bash scripts/postgres.sh          install (apt-get, as root) if needed, start, print URL
#   bash scripts/postgres.sh stop     stop the server (the data stays for the next start)
#   bash scripts/postgres.sh status   exit 0 when the server is up, 1 when not (installs nothing)
#
# The test run stops a server it started (scripts/test-servers.ts, vitest's globalSetup).
#
# The server listens on 127.0.0.1 only, on a free port, with trust authentication and
# fsync off: it is for tests, never for data anyone wants to keep.
# DYNOSAUR_PG_DIR moves it (default /tmp/dynosaur-postgres; a test run gives it a folder of its
# own, removed when the run ends: scripts/test-servers.ts).
set -euo pipefail

dir="${DYNOSAUR_PG_DIR:-/tmp/dynosaur-postgres}"
data="$dir/data"
say() { echo "postgres.sh: $*" >&2; }

# Test files run in parallel and may all call this at once: one at a time. The lock file
# lives inside the server's folder, so removing that folder leaves nothing behind.
# Nothing was started here, so there is nothing to stop or report: make no folder for it.
if [ ! -d "$dir" ] && { [ "${1:-}" = stop ] || [ "${1:-}" = status ]; }; then
  [ "${1:-}" = stop ] && say "not running"
  [ "${1:-}" = stop ]; exit
fi
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

find_bin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  d="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
  if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  return 1
}

bin="$(find_bin || true)"
if [ -z "$bin" ] && [ -n "${1:-}" ]; then
  # Not installed, so not running: nothing to stop, nothing to install for it.
  if [ "$1" = stop ]; then say "not running"; exit 0; fi
  exit 1
fi
if [ -z "$bin" ]; then
  if [ "$(id -u)" != 0 ]; then
    say "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
    exit 1
  fi
  say "installing PostgreSQL (apt-get install postgresql)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  bin="$(find_bin)" || { say "PostgreSQL installed but initdb not found"; exit 1; }
fi

# initdb and postgres refuse to run as root: use the package's `postgres` user then.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" --shell /bin/sh postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

running() { [ -f "$data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

case "${1:-}" in
  stop)
    if running; then as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >&2; else say "not running"; fi
    exit 0
    ;;
  status)
    if running; then exit 0; else exit 1; fi
    ;;
esac

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if running && [ -f "$dir/port" ] && "$bin/pg_isready" -q -U postgres -h 127.0.0.1 -p "$(cat "$dir/port")"; then
  echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
  exit 0
fi

mkdir -p "$dir/socket"
if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; fi
if [ ! -f "$data/PG_VERSION" ]; then
  say "creating a cluster in $data"
  as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
fi
# A server killed without a clean stop leaves its pid file behind; pg_ctl copes with a stale one.

start_on() {
  as_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $1 -k $dir/socket -c fsync=off -c full_page_writes=off -c max_connections=50" start >&2 9>&-
}

port="$(cat "$dir/port" 2>/dev/null || echo $((54320 + RANDOM % 1000)))"
for _ in $(seq 1 20); do
  if ! port_in_use "$port" && start_on "$port"; then
    echo "$port" >"$dir/port"
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    exit 0
  fi
  port=$((54320 + RANDOM % 1000))
  sleep 0.5
done
say "could not start PostgreSQL; its log:"
tail -n 30 "$dir/server.log" >&2 || true
exit 1
