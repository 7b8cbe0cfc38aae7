#!/usr/bin/env bash
# Installs the real job libraries the queue plugins are tested against, from Debian (apt-get,
# as root, only when missing): Sidekiq 6 (ruby-sidekiq), RQ (python3-rq) and Celery
# (python3-celery). The tests run them as real worker processes on the throwaway Redis of
# scripts/redis.sh. Prints nothing on stdout; exits 1 when a library is missing and cannot
# be installed.
#
#   bash scripts/job-libraries.sh          install what is missing
#   bash scripts/job-libraries.sh check    exit 0 when all are installed (installs nothing)
set -euo pipefail

say() { echo "job-libraries.sh: $*" >&2; }

# Debian's interpreters, not whatever python3/ruby comes first on PATH: the libraries are
# installed for /usr/bin's.
have() {
  /usr/bin/ruby -e 'require "sidekiq"; exit(Sidekiq::VERSION.start_with?("6.") ? 0 : 1)' 2>/dev/null &&
    [ -x /usr/bin/sidekiq ] &&
    /usr/bin/python3 -c 'import rq, celery, redis' 2>/dev/null
}

if have; then exit 0; fi
if [ "${1:-}" = check ]; then exit 1; fi

if [ "$(id -u)" != 0 ]; then
  say "the job libraries are not installed and installing them needs root: apt-get install ruby-sidekiq python3-rq python3-celery python3-redis"
  exit 1
fi

# Test files run in parallel and may all call this at once: one apt-get at a time (the lock is
# this script itself, so nothing is left in the temp folder).
exec 9<"${BASH_SOURCE[0]}"
flock 9
if have; then exit 0; fi
packages=(ruby-sidekiq python3-rq python3-celery python3-redis)
say "installing ${packages[*]} (apt-get)..."
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2 9>&- ||
  { apt-get update -qq >&2 9>&- && apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2 9>&-; }
have || { say "installed ${packages[*]} but Sidekiq 6, RQ or Celery does not load"; exit 1; }
