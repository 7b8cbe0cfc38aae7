#!/usr/bin/env bash
# The packaging check (CI runs it on every submission): proves that the packages install
# from the registry the way the README says, by doing what an end user does.
#
#   bash scripts/check-packages.sh
#
# 1. Builds, then packs every public package and the example third-party plugin with
#    `pnpm pack` (which rewrites `workspace:` ranges; scripts/pack-packages.sh), into a temp
#    dir outside the repo.
# 2. Lints each tarball: contents, `publint --strict`, `attw --profile esm-only`.
# 3. In an empty directory, installs with plain `npm` only the CLI (with @dynosaur/backtest
#    and @dynosaur/host, its dependencies), core and the random plugin from those tarballs (everything else comes
#    from the npm registry; our own packages are not on it, so npm cannot quietly fetch them
#    from there), then: its size is measured (target 10 MB); `dynosaur --once`
#    on the README's dry-run config prints a tick; no Google, New Relic or OpenTelemetry
#    package is installed; a config naming google-analytics (or newrelic) exits 2 with the
#    exact `npm install` line, and so does one with `stats: [{type: otlp}]`; the example
#    plugin, installed from its tarball, reads a loopback JSON endpoint; a TypeScript
#    consumer compiles against the install.
# 4. Installs CLI + core + random + each other plugin (and the otlp reporter, which then
#    exports ticks to a loopback OTLP/HTTP receiver) in fresh directories, checks the
#    package loads (the queue plugins: `check --dry-run` of a web + worker config), and
#    prints the measured install sizes (Google Analytics: 25 MB target).
# 5. Runs the README's `npm install -g @dynosaur/cli @dynosaur/plugin-newrelic` against a
#    loopback registry that serves our tarballs (scripts/loopback-registry.mjs) and checks
#    the global CLI finds the plugin and reports the plugin's config errors as such.
# 6. Runs the README's install from a clone (`bash scripts/install-from-clone.sh newrelic`)
#    into a prefix of its own, and checks that CLI the same way.
#
# Prints "ok"/"FAIL" per check and exits non-zero if any check failed. Leaves nothing
# behind: the temp dir and the loopback server go when it exits.
set -Eeuo pipefail
# Anything that fails outside a check's own handling still says where.
trap 'echo "check-packages: unexpected failure (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
. scripts/toolchain.sh || { echo "check-packages: could not set up the toolchain (scripts/toolchain.sh)" >&2; exit 1; }
SECONDS=0

failures=()
ok() { printf 'ok    %s\n' "$1"; }
fail() {
  printf 'FAIL  %s\n' "$1" >&2
  failures+=("$1")
}
# Shows a captured log under a failure, indented so it reads as belonging to it.
show() { [ -s "$1" ] && sed 's/^/      | /' "$1" >&2 || true; }
finish() {
  echo "packaging check: ${#failures[@]} failed check(s) in ${SECONDS}s"
  if [ "${#failures[@]}" -gt 0 ]; then
    printf '  failed: %s\n' "${failures[@]}" >&2
    exit 1
  fi
  exit 0
}
# A check the later ones cannot do without: stop here.
abort() {
  fail "$1"
  [ $# -gt 1 ] && show "$2"
  finish
}

work="$(mktemp -d "${TMPDIR:-/tmp}/dynosaur-packages.XXXXXX")"
servers=()
cleanup() {
  local pid
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
case "$(cd "$work" && pwd -P)/" in
  "$(pwd -P)/"*) abort "temp dir $work is inside the repo: set TMPDIR to a directory outside it" ;;
esac

npm_flags=(--no-audit --no-fund --no-update-notifier --loglevel=error)
# The CLI runs as a user's would: none of this shell's secrets or proxy settings.
clean_env() { env -i PATH="$PATH" HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" "$@"; }

# --- tools -------------------------------------------------------------------------
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 22 ] || abort "node on PATH is $(node -v); the CLI needs >= 22.19 (scripts/toolchain.sh should provide 24)"
command -v npm >/dev/null || abort "npm is not on PATH"
echo "node $(node -v), npm $(npm -v), pnpm $(pnpm -v); working in $work"

# Starts a loopback server (a command that prints its port on its first line) in the
# background; sets $port and $server_pid. Stopped by stop_server, or on exit.
start_server() {
  local name="$1"
  shift
  "$@" >"$work/$name.port" 2>"$work/$name.err" &
  server_pid=$!
  servers+=("$server_pid")
  for _ in $(seq 1 200); do
    [ -s "$work/$name.port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  port="$(head -n 1 "$work/$name.port" 2>/dev/null || true)"
  [ -n "$port" ] || abort "the loopback $name server did not start" "$work/$name.err"
}
stop_server() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# --- build ---------------------------------------------------------------------------
if pnpm exec turbo run build --output-logs=errors-only >"$work/build.log" 2>&1; then
  ok "build"
else
  abort "build (pnpm exec turbo run build)" "$work/build.log"
fi

# --- pack ----------------------------------------------------------------------------
# Every public workspace package, plus the example plugin (scripts/pack-packages.sh).
declare -A tarball=()
if bash scripts/pack-packages.sh "$work/tarballs" >"$work/packed.tsv" 2>"$work/pack.log"; then
  while IFS=$'\t' read -r name tgz; do tarball[$name]="$tgz"; done <"$work/packed.tsv"
else
  fail "pack (scripts/pack-packages.sh)"
  show "$work/pack.log"
fi
for name in @dynosaur/core @dynosaur/host @dynosaur/cli @dynosaur/backtest @dynosaur/reporter-otlp @dynosaur/queue-time @dynosaur/plugin-heroku-router @dynosaur/plugin-random @dynosaur/plugin-google-analytics @dynosaur/plugin-newrelic @dynosaur/plugin-redis-queue @dynosaur/plugin-postgres-queue dynosaur-plugin-example; do
  [ -n "${tarball[$name]:-}" ] || abort "pack: no tarball for $name (is it still a public workspace package?)"
done
ok "pack ${#tarball[@]} packages: $(printf '%s\n' "${!tarball[@]}" | sort | tr '\n' ' ')"

# --- lint the tarballs ---------------------------------------------------------------
mapfile -t names < <(printf '%s\n' "${!tarball[@]}" | sort)
for name in "${names[@]}"; do
  tgz="${tarball[$name]}"
  listing="$(tar -tzf "$tgz")"
  manifest="$(tar -xzOf "$tgz" package/package.json)"
  problems=""
  grep -q '"workspace:' <<<"$manifest" && problems+=" a workspace: range survived packing;"
  grep -qx 'package/dist/index.js' <<<"$listing" || problems+=" no dist/index.js (built?);"
  stray="$(grep -E '\.test\.|\.tsbuildinfo$|^package/(src|test)/' <<<"$listing" || true)"
  [ -z "$stray" ] || problems+=" ships $(tr '\n' ' ' <<<"$stray");"
  if [ -z "$problems" ]; then ok "contents $name ($(wc -l <<<"$listing") files)"; else fail "contents $name:$problems"; fi

  if pnpm exec publint run "$tgz" --strict >"$work/publint.log" 2>&1; then
    ok "publint --strict $name"
  else
    fail "publint --strict $name"
    show "$work/publint.log"
  fi
  if pnpm exec attw "$tgz" --profile esm-only --no-emoji --no-color --format ascii >"$work/attw.log" 2>&1; then
    ok "attw --profile esm-only $name"
  else
    fail "attw --profile esm-only $name"
    show "$work/attw.log"
  fi
done

# --- install CLI + core + random with plain npm ---------------------------------------
# Installs into a fresh directory; the tarballs stand in for the registry's copies.
npm_install_into() {
  local dir="$1"
  shift
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{ "name": "dynosaur-install-check", "private": true, "type": "module" }' >"$dir/package.json"
  (cd "$dir" && npm install "${npm_flags[@]}" "$@") >"$work/npm.log" 2>&1
}

# "<MB> MB, <n> packages (du: <MB> MB)" of a directory's node_modules.
describe_size() {
  local dir="$1"
  node "$repo/scripts/installed-packages.mjs" "$dir/node_modules" >"$dir.installed.json"
  local du_kb
  du_kb="$(du -sk "$dir/node_modules" | cut -f1)"
  node -e '
    const { copies, bytes } = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${(bytes / 1e6).toFixed(1)} MB, ${copies} packages (du: ${(process.argv[2] / 1024).toFixed(1)} MB)`);
  ' "$dir.installed.json" "$du_kb"
}

# Installed package names matching the pattern, one per line (none: empty).
installed_matching() {
  node -e '
    const { packages } = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    for (const p of packages) if (new RegExp(process.argv[2], "i").test(p)) console.log(p);
  ' "$1.installed.json" "$2"
}
# New Relic through a given `dynosaur` command, run from a project directory: `check`
# accepts a good config, and an error the plugin itself raises (no api_key) is still a
# config error: exit 2, the option's path and the plugin's hint. The latter needs the
# plugin's @dynosaur/core errors to be recognised by the CLI's, which is not a given
# when the two are separate copies (as `npm install -g` lays them out).
check_newrelic_config() {
  local label="$1" dynosaur="$2" dir="$3" key="NRAK-$RANDOM$RANDOM$RANDOM" rc
  cat >"$dir/newrelic.yaml" <<EOF
use: [newrelic]
scaler: { dry_run: true, min_dynos: 1, max_dynos: 4 }
plugins:
  - name: rpm
    type: newrelic
    api_key: \${NEW_RELIC_API_KEY}
    account_id: 12345
    app_name: shop
    rpm_per_dyno: 500
EOF
  grep -v api_key "$dir/newrelic.yaml" >"$dir/newrelic-no-key.yaml"
  rc=0
  (cd "$dir" && clean_env NEW_RELIC_API_KEY="$key" "$dynosaur" check newrelic.yaml) >"$work/out" 2>"$work/err" || rc=$?
  if [ "$rc" -eq 0 ] && grep -q 'rpm: newrelic from @dynosaur/plugin-newrelic@' "$work/out" && ! grep -qF "$key" "$work/out" "$work/err"; then
    ok "$label: dynosaur check accepts a New Relic config (key redacted)"
  else
    fail "$label: dynosaur check newrelic.yaml (exit $rc; expected 0, the plugin named, and no key in the output)"
    show "$work/out"
    show "$work/err"
  fi
  rc=0
  (cd "$dir" && clean_env "$dynosaur" check newrelic-no-key.yaml) >"$work/out" 2>"$work/err" || rc=$?
  if [ "$rc" -eq 2 ] && grep -q 'DYNO_CONFIG_INVALID: plugins\[0\]\.api_key' "$work/err" && grep -q '^  hint: ' "$work/err"; then
    ok "$label: a New Relic config without api_key exits 2 with its path and hint"
  else
    fail "$label: a New Relic config without api_key (exit $rc; expected 2, 'DYNO_CONFIG_INVALID: plugins[0].api_key' and a hint)"
    show "$work/err"
  fi
}

# Google's and New Relic's code, by package name: the plugins and what they pull in.
vendor_pattern='google|gaxios|gcp-metadata|gtoken|newrelic|new-relic'
# The OpenTelemetry SDK: only the otlp reporter's package brings it.
otel_pattern='^@opentelemetry/'

# Says whether an install's measured size (a describe_size line) is within its target in MB.
# A measurement, not a check: what weighs most is mostly outside our code (zod, undici).
size_target() {
  local label="$1" size="$2" target="$3"
  if node -e 'process.exit(Number.parseFloat(process.argv[1]) <= Number(process.argv[2]) ? 0 : 1)' "$size" "$target"; then
    printf 'size  %s: %s, within its %s MB target\n' "$label" "$size" "$target"
  else
    printf 'size  %s: %s, OVER its %s MB target\n' "$label" "$size" "$target"
  fi
}

base="$work/base"
# The CLI depends on @dynosaur/backtest (`dynosaur simulate`) and @dynosaur/host (Heroku,
# the leader lock, reporters, alerts, plugin lookup): from their tarballs too.
base_tarballs=("${tarball[@dynosaur/cli]}" "${tarball[@dynosaur/backtest]}" "${tarball[@dynosaur/host]}" "${tarball[@dynosaur/core]}" "${tarball[@dynosaur/plugin-random]}")
if npm_install_into "$base" "${base_tarballs[@]}"; then
  ok "npm install @dynosaur/cli @dynosaur/core @dynosaur/plugin-random (from tarballs)"
else
  abort "npm install @dynosaur/cli @dynosaur/core @dynosaur/plugin-random (from tarballs)" "$work/npm.log"
fi
[ -x "$base/node_modules/.bin/dynosaur" ] || abort "the CLI's bin: node_modules/.bin/dynosaur is missing after npm install"

size_base="$(describe_size "$base")"
size_target "CLI + core + random" "$size_base" 10
vendor="$(installed_matching "$base" "$vendor_pattern")"
if [ -z "$vendor" ]; then
  ok "no Google or New Relic package in the install"
else
  fail "Google or New Relic packages in an install without their plugins: $(tr '\n' ' ' <<<"$vendor")"
fi
otel="$(installed_matching "$base" "$otel_pattern")"
if [ -z "$otel" ]; then
  ok "no OpenTelemetry package in the install"
else
  fail "OpenTelemetry packages in an install without the otlp reporter: $(tr '\n' ' ' <<<"$otel")"
fi

# --- dynosaur --once on the README's dry-run config ---------------------------------------
cp examples/dry-run.yaml "$base/dry-run.yaml"
rc=0
(cd "$base" && clean_env ./node_modules/.bin/dynosaur dry-run.yaml --once) >"$work/out" 2>"$work/err" || rc=$?
if [ "$rc" -eq 0 ] && grep -qE '\[dry run\] .*random: [0-9.]+ ' "$work/out"; then
  ok "dynosaur dry-run.yaml --once: $(grep -m 1 -E '\[dry run\]' "$work/out" | sed -E 's/^[^ ]+ +[A-Z]+ +//')"
else
  fail "dynosaur dry-run.yaml --once (exit $rc; expected 0 and a [dry run] tick line naming the random source)"
  show "$work/out"
  show "$work/err"
fi

# --- a plugin that is not installed names its npm install line -------------------------------
for plugin in google-analytics newrelic; do
  cat >"$base/needs-$plugin.yaml" <<EOF
use:
  - $plugin
scaler:
  dry_run: true
  min_dynos: 1
  max_dynos: 2
plugins:
  - name: $plugin
    type: $plugin
EOF
  rc=0
  (cd "$base" && clean_env ./node_modules/.bin/dynosaur "needs-$plugin.yaml" --once) >"$work/out" 2>"$work/err" || rc=$?
  if [ "$rc" -eq 2 ] && grep -qE "(^|[ :])npm install @dynosaur/plugin-$plugin( \(|\$)" "$work/err"; then
    ok "use: [$plugin] without its plugin exits 2 with: npm install @dynosaur/plugin-$plugin"
  else
    fail "use: [$plugin] without its plugin (exit $rc; expected 2 and a line ending 'npm install @dynosaur/plugin-$plugin')"
    show "$work/out"
    show "$work/err"
  fi
done

# --- the otlp reporter is a package of its own: without it, its npm install line ----------------
cat >"$base/otlp.yaml" <<EOF
scaler: { dry_run: true, min_dynos: 1, max_dynos: 4, interval: 0.2, stats_file: otlp-stats.txt }
stats:
  - type: otlp
plugins:
  - { type: random, seed: 1, interval: 0.2 }
EOF
rc=0
(cd "$base" && clean_env ./node_modules/.bin/dynosaur otlp.yaml --once) >"$work/out" 2>"$work/err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q 'DYNO_REPORTER_NOT_FOUND: stats\[0\]\.type: ' "$work/err" && grep -qE '(^|[ :])npm install @dynosaur/reporter-otlp( \(|$)' "$work/err"; then
  ok "stats: [{type: otlp}] without its reporter exits 2 naming stats[0].type, with: npm install @dynosaur/reporter-otlp"
else
  fail "stats: [{type: otlp}] without its reporter (exit $rc; expected 2, 'stats[0].type' and a line ending 'npm install @dynosaur/reporter-otlp')"
  show "$work/out"
  show "$work/err"
fi

# --- the example third-party plugin, from its tarball ----------------------------------------
if npm_install_into "$base" "${tarball[dynosaur-plugin-example]}"; then
  ok "npm install dynosaur-plugin-example (from its tarball)"
else
  fail "npm install dynosaur-plugin-example (from its tarball)"
  show "$work/npm.log"
fi

# A stand-in for the JSON endpoint the example reads: GET /stats.json with the bearer
# token and Accept: application/json, or it answers like a real API would (404/401/406).
token="example-$RANDOM$RANDOM-secret"
start_server stats env EXAMPLE_TOKEN="$token" node -e '
  const http = require("node:http");
  const json = (res, status, body) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/stats.json") return json(res, 404, { error: "not found" });
    if (req.headers.authorization !== `Bearer ${process.env.EXAMPLE_TOKEN}`) return json(res, 401, { error: "unauthorized" });
    if (!/application\/json|\*\/\*/.test(req.headers.accept ?? "")) return json(res, 406, { error: "not acceptable" });
    json(res, 200, { data: { active_users: 123 } });
  });
  server.listen(0, "127.0.0.1", () => console.log(server.address().port));
  // Never outlive a check that was killed before it could stop this server.
  setTimeout(() => process.exit(0), 300_000).unref();
'

cat >"$base/example.yaml" <<EOF
use:
  - example
scaler:
  dry_run: true
  min_dynos: 1
  max_dynos: 10
  stats_file: example-stats.txt
plugins:
  - name: signups
    type: example
    url: http://127.0.0.1:$port/stats.json
    json_pointer: /data/active_users
    per_dyno: 50
    token: \${EXAMPLE_TOKEN}
EOF
rc=0
(cd "$base" && clean_env EXAMPLE_TOKEN="$token" ./node_modules/.bin/dynosaur example.yaml --once) >"$work/out" 2>"$work/err" || rc=$?
if [ "$rc" -eq 0 ] && grep -q 'signups: 123 units' "$work/out" && ! grep -qF "$token" "$work/out" "$work/err"; then
  ok "dynosaur example.yaml --once reads the example source: $(grep -m 1 -o 'signups: 123 units[^|]*' "$work/out")"
else
  fail "dynosaur example.yaml --once (exit $rc; expected 0, a tick naming 'signups: 123 units', and no token in the output)"
  show "$work/out"
  show "$work/err"
fi
stop_server "$server_pid"

# --- types, as a plugin author on npm compiles against them -------------------------------------
# Our own .d.ts files are checked too (skipLibCheck off): a declaration that points at a
# file or package the install lacks fails here, not in a user's editor.
cat >"$base/consumer.ts" <<'EOF'
import { definePlugin, type PluginDefinition, PluginError, z } from "@dynosaur/core";
import { installName } from "@dynosaur/cli";
import random from "@dynosaur/plugin-random";
import example from "dynosaur-plugin-example";

const installed: readonly PluginDefinition[] = [random, example];
export const types: string[] = [...installed.map((p) => p.type), installName("example")];

export default definePlugin({
  type: "constant",
  unit: "things",
  options: z.object({ value: z.number() }),
  create: (options) => ({
    async retrieve() {
      if (options.value < 0) throw new PluginError("a negative value", { hint: "use a positive one" });
      return options.value;
    },
    estimateDynos: (value) => Math.ceil(value),
  }),
});
EOF
cat >"$base/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "module": "nodenext", "target": "es2023", "lib": ["es2023"], "strict": true, "noEmit": true,
    "skipLibCheck": false, "types": ["node"], "typeRoots": ["$repo/node_modules/@types"]
  },
  "files": ["consumer.ts"]
}
EOF
if (cd "$base" && "$repo/node_modules/.bin/tsc" -p tsconfig.json) >"$work/tsc.log" 2>&1; then
  ok "a TypeScript plugin compiles against the installed core, cli, random and example types"
else
  fail "a TypeScript plugin against the installed types (tsc, skipLibCheck off)"
  show "$work/tsc.log"
fi

# --- each other plugin: loads from a fresh install; measured ---------------------------------
declare -A size_with=()
for plugin in google-analytics newrelic heroku-router; do
  dir="$work/with-$plugin"
  if ! npm_install_into "$dir" "${base_tarballs[@]}" "${tarball[@dynosaur/plugin-$plugin]}"; then
    fail "npm install CLI + core + random + @dynosaur/plugin-$plugin (from tarballs)"
    show "$work/npm.log"
    continue
  fi
  size_with[$plugin]="$(describe_size "$dir")"
  if [ "$plugin" = google-analytics ]; then size_target "CLI + core + random + google-analytics" "${size_with[$plugin]}" 25; fi
  # The vendor scan must see the plugin here, or its "none found" above proves nothing.
  # heroku-router brings no vendor SDK: the scan must see it by its own name.
  seen="$(installed_matching "$dir" "$vendor_pattern|heroku-router")"
  if grep -qx "@dynosaur/plugin-$plugin" <<<"$seen"; then
    ok "npm install CLI + core + random + @dynosaur/plugin-$plugin; the vendor scan sees it"
  else
    fail "npm install CLI + core + random + @dynosaur/plugin-$plugin: the vendor scan does not see the plugin"
  fi
  # `schema` loads the plugin (its dependencies included) and prints its options.
  cat >"$dir/schema.yaml" <<EOF
use: [random, $plugin]
scaler: { dry_run: true, min_dynos: 1, max_dynos: 2 }
plugins:
  - { name: random, type: random }
EOF
  rc=0
  (cd "$dir" && clean_env ./node_modules/.bin/dynosaur schema schema.yaml) >"$work/out" 2>"$work/err" || rc=$?
  if [ "$rc" -eq 0 ] && grep -qF "\"$plugin\"" "$work/out"; then
    ok "dynosaur schema loads @dynosaur/plugin-$plugin from the npm install"
  else
    fail "dynosaur schema with use: [random, $plugin] (exit $rc; expected 0 and the plugin's type in the schema)"
    show "$work/err"
  fi
  if [ "$plugin" = newrelic ]; then check_newrelic_config "per-project install" ./node_modules/.bin/dynosaur "$dir"; fi
done

# --- the queue plugins: web from random, worker from a queue, as issue 15's configs are ---------
# `check --dry-run` creates the sources (options checked, no connection made: a queue plugin
# connects at its first poll), so no Redis or PostgreSQL is needed here; the URL's password
# must not be printed.
queue_config() {
  case "$1" in
    redis-queue) echo "{ name: jobs, type: sidekiq, process: worker, url: \"\${REDIS_URL}\", queues: [default], jobs_per_dyno: 25 }" ;;
    postgres-queue) echo "{ name: jobs, type: good-job, process: worker, url: \"\${DATABASE_URL}\", jobs_per_dyno: 25 }" ;;
  esac
}
for plugin in redis-queue postgres-queue; do
  dir="$work/with-$plugin"
  if ! npm_install_into "$dir" "${base_tarballs[@]}" "${tarball[@dynosaur/plugin-$plugin]}"; then
    fail "npm install CLI + core + random + @dynosaur/plugin-$plugin (from tarballs)"
    show "$work/npm.log"
    continue
  fi
  size_with[$plugin]="$(describe_size "$dir")"
  cat >"$dir/workers.yaml" <<EOF
use: [random, $plugin]
scaler: { dry_run: true }
processes:
  web: { min_dynos: 1, max_dynos: 4 }
  worker: { min_dynos: 0, max_dynos: 5, hold_while_busy: true }
plugins:
  - { name: site, type: random }
  - $(queue_config "$plugin")
EOF
  secret="queue-pw-$RANDOM$RANDOM"
  rc=0
  (cd "$dir" && clean_env REDIS_URL="redis://:$secret@127.0.0.1:1/0" DATABASE_URL="postgres://app:$secret@127.0.0.1:1/app" ./node_modules/.bin/dynosaur check --dry-run workers.yaml) >"$work/out" 2>"$work/err" || rc=$?
  if [ "$rc" -eq 0 ] && grep -q "jobs: [a-z-]* from @dynosaur/plugin-$plugin@.*, drives worker" "$work/out" && grep -q '^  worker: 0\.\.5 dynos now' "$work/out" && ! grep -qF "$secret" "$work/out" "$work/err"; then
    ok "dynosaur check --dry-run accepts web + worker with @dynosaur/plugin-$plugin from the npm install (URL redacted)"
  else
    fail "dynosaur check --dry-run with @dynosaur/plugin-$plugin (exit $rc; expected 0, the worker's limits, its source from the plugin, and no password in the output)"
    show "$work/out"
    show "$work/err"
  fi
done

# --- the otlp reporter on top: sends each tick to a loopback OTLP/HTTP receiver ------------------
otlp_dir="$work/with-otlp"
if npm_install_into "$otlp_dir" "${base_tarballs[@]}" "${tarball[@dynosaur/reporter-otlp]}"; then
  size_with[otlp]="$(describe_size "$otlp_dir")"
  if grep -qx '@opentelemetry/sdk-metrics' <<<"$(installed_matching "$otlp_dir" "$otel_pattern")"; then
    ok "npm install CLI + core + random + @dynosaur/reporter-otlp; the OpenTelemetry scan sees the SDK"
  else
    fail "npm install CLI + core + random + @dynosaur/reporter-otlp: the OpenTelemetry scan does not see @opentelemetry/sdk-metrics"
  fi
  # A stand-in for a collector's OTLP/HTTP receiver: JSON export requests on /v1/metrics
  # (415 for anything but JSON, 400 for a body that is not one); each metric name it gets is
  # appended to a file.
  start_server otlp node -e '
    const http = require("node:http");
    const fs = require("node:fs");
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        const reply = (status, json) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(json)); };
        if (req.method !== "POST" || req.url !== "/v1/metrics") return reply(404, { code: 5, message: "not found" });
        if (!/^application\/json/.test(req.headers["content-type"] ?? "")) return reply(415, { code: 3, message: "JSON only" });
        let names;
        try {
          const request = JSON.parse(body);
          names = request.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.name)));
        } catch {
          return reply(400, { code: 3, message: "not an ExportMetricsServiceRequest" });
        }
        fs.appendFileSync(process.argv[1], names.map((n) => `${n}
`).join(""));
        reply(200, {});
      });
    });
    server.listen(0, "127.0.0.1", () => console.log(server.address().port));
    setTimeout(() => process.exit(0), 300_000).unref();
  ' "$work/otlp-metrics.txt"
  cp "$base/otlp.yaml" "$otlp_dir/otlp.yaml"
  rc=0
  (cd "$otlp_dir" && clean_env OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" ./node_modules/.bin/dynosaur otlp.yaml --ticks 2) >"$work/out" 2>"$work/err" || rc=$?
  if [ "$rc" -eq 0 ] && grep -qx 'dynosaur.combined.estimate' "$work/otlp-metrics.txt" 2>/dev/null; then
    ok "stats: [{type: otlp}] with @dynosaur/reporter-otlp installed exports to a loopback receiver ($(sort -u "$work/otlp-metrics.txt" | tr '\n' ' '))"
  else
    fail "stats: [{type: otlp}] with the reporter installed (exit $rc; expected 0 and dynosaur.combined.estimate at the receiver)"
    show "$work/out"
    show "$work/err"
  fi
  stop_server "$server_pid"
else
  fail "npm install CLI + core + random + @dynosaur/reporter-otlp (from tarballs)"
  show "$work/npm.log"
fi

# --- the README's global install, from a loopback registry -------------------------------
# `npm install -g` resolves names, not tarballs, so the registry stand-in serves ours (with
# the package.json pack-packages.sh wrote next to each) and sends everything else on to
# the registry npm is configured with.
start_server registry node "$repo/scripts/loopback-registry.mjs" "$(npm config get registry)" "${tarball[@]}"
registry_pid="$server_pid"
global="$work/global"
if (npm install -g --prefix "$global" --registry "http://127.0.0.1:$port/" "${npm_flags[@]}" @dynosaur/cli @dynosaur/plugin-newrelic) >"$work/npm.log" 2>&1 \
  && [ -x "$global/bin/dynosaur" ]; then
  ok "npm install -g @dynosaur/cli @dynosaur/plugin-newrelic (from the loopback registry)"
  size_global="$(describe_size "$global/lib")"
  # A project directory with no node_modules: the plugin is found next to the global CLI.
  mkdir -p "$work/project"
  check_newrelic_config "global install" "$global/bin/dynosaur" "$work/project"
else
  fail "npm install -g @dynosaur/cli @dynosaur/plugin-newrelic (from the loopback registry)"
  show "$work/npm.log"
fi
stop_server "$registry_pid"

# --- the README's install from a clone ----------------------------------------------------
# The one command the README gives until the first release, into a prefix of its own.
from_clone="$work/from-clone"
if npm_config_prefix="$from_clone" bash scripts/install-from-clone.sh newrelic >"$work/npm.log" 2>&1 && [ -x "$from_clone/bin/dynosaur" ]; then
  ok "bash scripts/install-from-clone.sh newrelic installs dynosaur and the plugin globally"
  mkdir -p "$work/project-from-clone"
  check_newrelic_config "install from a clone" "$from_clone/bin/dynosaur" "$work/project-from-clone"
else
  fail "bash scripts/install-from-clone.sh newrelic (npm_config_prefix=$from_clone)"
  show "$work/npm.log"
fi

# --- sizes -------------------------------------------------------------------------------
echo "install sizes (node_modules, sum of file sizes; du is disk usage):"
echo "  CLI + core + random:                    $size_base (target 10 MB)"
echo "  CLI + core + random + google-analytics: ${size_with[google-analytics]:-not measured} (target 25 MB)"
echo "  CLI + core + random + newrelic:         ${size_with[newrelic]:-not measured}"
echo "  CLI + core + random + reporter-otlp:    ${size_with[otlp]:-not measured}"
echo "  CLI + core + random + redis-queue:      ${size_with[redis-queue]:-not measured}"
echo "  CLI + core + random + postgres-queue:   ${size_with[postgres-queue]:-not measured}"
echo "  npm install -g @dynosaur/cli @dynosaur/plugin-newrelic: ${size_global:-not measured}"

finish
