#!/usr/bin/env bash
# Heroku build step (the root package.json's heroku-postbuild runs it after the build):
# installs the third-party plugins named in the DYNOSAUR_PLUGINS config var as production
# dependencies of the web server (apps/web), so the buildpack's prune to production
# dependencies keeps them and dynosaur-web finds them as it finds the first-party ones.
#
#   heroku config:set DYNOSAUR_PLUGINS="dynosaur-plugin-foo @acme/dynosaur-plugin-bar@1.2.0"
#
# Entries are npm package specs, separated by spaces or commas. Without the variable it does
# nothing: every first-party plugin already ships with the server.
set -euo pipefail
list="${DYNOSAUR_PLUGINS:-}"
read -r -a plugins <<<"${list//,/ }"
if [ "${#plugins[@]}" -eq 0 ]; then
  echo "heroku-plugins: DYNOSAUR_PLUGINS is not set: the first-party plugins only" >&2
  exit 0
fi
echo "heroku-plugins: adding ${plugins[*]} to the web server's dependencies" >&2
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pnpm add --filter @dynosaur/web "${plugins[@]}"
