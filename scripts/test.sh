#!/usr/bin/env bash
# Runs every check of the repository, the same way locally and in CI:
#
#   1. npm dev tools from scripts/package-lock.json (Azurite, Swagger validator, Bicep grammar,
#      playwright-core), and Chromium from the Debian packages for the console's browser test
#   2. go mod download
#   3. gofmt and go vet
#   4. Azurite on free loopback ports; the run FAILS if it cannot start, so the Azure adapter
#      tests are never silently skipped
#   5. go test -race with NIMBUS_TEST_AZURITE set; this includes the console in headless
#      Chromium (handler/e2e_console_test.go runs scripts/console-test.mjs; its screenshots are
#      kept in the folder the summary names) and the documentation checks
#      (handler/docs_*_test.go and friends: README settings, error codes, paths, Bicep
#      parameters, the local Functions settings and the core contract agree with the code)
#   5b. a one-minute soak with faults (scripts/soak.sh 60s): no accepted event may be lost
#   6. connector definitions (scripts/validate-connector.mjs)
#   7. Bicep syntax (scripts/check-bicep.mjs)
#
# Steps 1, 2 and 4 prepare the run and stop it when they fail; the checks 3 and 5-7 all run
# and the summary lists each result. The last line counts Go tests as "N passed, N failed".
#
# Works from any directory, without a terminal and with CI=true.
# Usage: scripts/test.sh               run everything
#        scripts/test.sh --check-node  only check that Node.js is recent enough
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
exec </dev/null # nothing here may wait for input

section() {
  printf '\n==> %s\n' "$*"
}
die() {
  echo "test: $*" >&2
  exit 1
}

for tool in go node npm; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

# The pinned npm tools declare Node.js 20.19 or later (scripts/package.json "engines"); an
# older Node fails here, before anything is installed, instead of somewhere inside a tool.
node_min="20.19.0"
node_version="$(node --version 2>/dev/null || true)"
node_version="${node_version#v}"
node_ok=0
IFS=. read -r have_major have_minor have_patch <<<"$node_version"
IFS=. read -r want_major want_minor want_patch <<<"$node_min"
if [[ "$have_major" =~ ^[0-9]+$ && "$have_minor" =~ ^[0-9]+$ && "${have_patch%%[!0-9]*}" =~ ^[0-9]+$ ]]; then
  have_patch="${have_patch%%[!0-9]*}"
  if ((have_major != want_major)); then
    ((have_major > want_major)) && node_ok=1
  elif ((have_minor != want_minor)); then
    ((have_minor > want_minor)) && node_ok=1
  else
    ((have_patch >= want_patch)) && node_ok=1
  fi
fi
[ "$node_ok" -eq 1 ] || die "Node.js $node_min or later is needed, found '${node_version:-none}'; the npm tools pinned in scripts/package.json declare it. Install Node.js 20 LTS (20.19 or later) or newer."
if [ "${1:-}" = "--check-node" ]; then
  echo "Node.js $node_version is recent enough (at least $node_min)"
  exit 0
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/nimbusflow-test.XXXXXX")"
AZURITE_PID=""
cleanup() {
  if [ -n "${AZURITE_PID:-}" ]; then
    scripts/azurite.sh stop "$AZURITE_PID" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run the EXIT trap on interrupt too

results=()
failed_steps=0
record() { # record NAME STATUS
  if [ "$2" -eq 0 ]; then
    results+=("ok    $1")
  else
    results+=("FAIL  $1")
    failed_steps=$((failed_steps + 1))
  fi
}

# --- 1. npm dev tools -----------------------------------------------------------------------
# `npm ci` always deletes and reinstalls node_modules, which costs a minute for Azurite. A
# stamp inside node_modules remembers the lock file it was installed from; a fresh clone has
# no node_modules and so no stamp. Delete scripts/node_modules to force a reinstall.
section "npm dev tools (scripts/package-lock.json)"
lock_hash="$(node -e '
  const crypto = require("crypto"), fs = require("fs");
  const h = crypto.createHash("sha256");
  for (const f of process.argv.slice(1)) h.update(fs.readFileSync(f));
  console.log(h.digest("hex"));
' scripts/package.json scripts/package-lock.json)"
stamp=scripts/node_modules/.nimbusflow-installed
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ]; then
  echo "installed tools match the lock file; skipping npm ci"
else
  # --engine-strict: a tool that does not declare support for this Node fails the install
  # instead of printing an EBADENGINE warning and breaking later.
  npm ci --prefix scripts --ignore-scripts --no-audit --no-fund --engine-strict
  echo "$lock_hash" >"$stamp"
fi

# The console's browser test drives the system Chromium (playwright-core downloads none). It is
# installed once from the Debian packages; an existing /usr/bin/chromium is used as it is.
section "Chromium (console browser test)"
if [ -x /usr/bin/chromium ]; then
  echo "using /usr/bin/chromium"
else
  command -v apt-get >/dev/null 2>&1 || die "/usr/bin/chromium is missing and apt-get is not available; install Chromium for the console test"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "/usr/bin/chromium is missing; installing it needs root (apt-get install chromium)"
    sudo="sudo -n"
  fi
  $sudo apt-get update -qq || die "apt-get update failed; Chromium is needed for the console test"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null ||
    die "apt-get install chromium failed; it is needed for the console test"
  [ -x /usr/bin/chromium ] || die "apt-get installed chromium, but /usr/bin/chromium is missing"
  echo "installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
fi
console_shots="${TMPDIR:-/tmp}/nimbusflow-console-screenshots"
rm -rf "$console_shots"
mkdir -p "$console_shots"
export NIMBUS_CONSOLE_SCREENSHOTS="$console_shots"

# --- 2. Go modules --------------------------------------------------------------------------
section "go mod download"
go mod download
echo "modules ready"

# --- 3. gofmt and go vet --------------------------------------------------------------------
section "gofmt"
go_files="$(find . \( -path ./scripts/node_modules -o -path ./dist -o -path ./.git \) -prune \
  -o -type f -name '*.go' -print)"
unformatted=""
if [ -n "$go_files" ]; then
  unformatted="$(printf '%s\n' "$go_files" | tr '\n' '\0' | xargs -0 gofmt -l)"
fi
if [ -n "$unformatted" ]; then
  echo "these files are not gofmt-formatted (run gofmt -w on them):"
  printf '%s\n' "$unformatted" | sed 's/^/  /'
  record "gofmt" 1
else
  echo "all Go files formatted"
  record "gofmt" 0
fi

section "go vet"
if go vet ./...; then
  echo "go vet clean"
  record "go vet" 0
else
  record "go vet" 1
fi

# --- 4. Azurite -----------------------------------------------------------------------------
section "Azurite"
[ -x scripts/azurite.sh ] || die "scripts/azurite.sh is missing or not executable; the Azure adapter tests need Azurite"
if ! azurite_env="$(scripts/azurite.sh start "$tmp/azurite")"; then
  die "Azurite could not start; the Azure adapter tests need it (see the output above)"
fi
eval "$azurite_env"
[ -n "${NIMBUS_TEST_AZURITE:-}" ] || die "scripts/azurite.sh did not set NIMBUS_TEST_AZURITE"
export NIMBUS_TEST_AZURITE
echo "Azurite running (pid ${AZURITE_PID:-unknown}); NIMBUS_TEST_AZURITE is set"

# --- 5. Go tests ----------------------------------------------------------------------------
# -v so that every test and subtest prints a "--- PASS"/"--- FAIL" line to count; go test still
# prints its per-package "ok"/"FAIL" lines.
section "go test -race"
go_log="$tmp/go-test.log"
if go test -race -count=1 -timeout 20m -v ./... 2>&1 | tee "$go_log"; then
  record "go test" 0
else
  record "go test" 1
fi

# --- 5b. soak, short run ---------------------------------------------------------------------
# The simulator against the real binary for a minute with every fault of the schedule (see
# scripts/soak.sh); it fails on any lost event. Its output stays out of the test counts.
section "soak (short run)"
if scripts/soak.sh 60s 2>&1 | tee "$tmp/soak.log"; then
  record "soak 60s" 0
else
  record "soak 60s" 1
fi

# --- 6. connector definitions ---------------------------------------------------------------
section "connector definitions"
if node scripts/validate-connector.mjs; then
  record "connector definitions" 0
else
  record "connector definitions" 1
fi

# --- 7. Bicep -------------------------------------------------------------------------------
section "Bicep syntax"
if node scripts/check-bicep.mjs; then
  record "bicep" 0
else
  record "bicep" 1
fi

# --- summary --------------------------------------------------------------------------------
count() { grep -cE "$1" "$go_log" || true; }
passed="$(count '^[[:space:]]*--- PASS: ')"
failed="$(count '^[[:space:]]*--- FAIL: ')"
skipped="$(count '^[[:space:]]*--- SKIP: ')"
broken="$(count '^FAIL[[:space:]].*\[(build|setup) failed\]')"

section "summary"
printf '%s\n' "${results[@]}"
echo "Go tests counted from --- PASS/--- FAIL lines, top-level tests and subtests alike; $skipped skipped."
if [ "$broken" -gt 0 ]; then
  echo "$broken Go package(s) failed to build; their tests are not in the counts."
fi
shots_taken="$(find "$console_shots" -name '*.png' 2>/dev/null | wc -l | tr -d ' ')"
echo "Console screenshots ($shots_taken): $console_shots"
echo "$passed passed, $failed failed"

[ "$failed_steps" -eq 0 ]
