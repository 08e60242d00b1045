#!/usr/bin/env bash
# Soak and fault suite: the Nimbus core simulator at a steady rate against the real handler
# binary for DURATION, with faults on a schedule (callbacks answering 5xx, 429 with
# Retry-After, 410 and hanging; kill -9 of the handler and restart; a storage outage through
# a proxy in front of Azurite). At the end every accepted event is reconciled with what the
# callbacks acknowledged; one table is printed and the exit status is non-zero on any loss.
#
#   scripts/soak.sh DURATION     e.g. scripts/soak.sh 90s, scripts/soak.sh 30m
#
# Starts its own throwaway Azurite with scripts/azurite.sh (also under scripts/test.sh, so that
# no other test's data shares its tables) and stops it at the end; NIMBUS_SOAK_AZURITE, an
# Azurite connection string, names one to use instead (it must serve no other test). NIMBUS_SOAK_RATE sets the new
# tasks per minute across the demo tenant's services (default 90). Loopback only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
exec </dev/null

die() { echo "soak: $*" >&2; exit 2; }

dur="${1:-}"
[[ "$dur" =~ ^([0-9]+)(s|m|h)$ ]] || die "usage: scripts/soak.sh DURATION (a whole number with s, m or h, e.g. 90s or 30m)"
n="${BASH_REMATCH[1]}"
case "${BASH_REMATCH[2]}" in
s) secs="$n" ;;
m) secs=$((n * 60)) ;;
h) secs=$((n * 3600)) ;;
esac
[ "$secs" -ge 30 ] || die "DURATION must be at least 30s, so that every fault of the schedule happens"
# The run takes DURATION, then up to a few minutes for deliveries to settle; the bound below
# stops a stuck run.
limit=$((secs + 900))

tmp="$(mktemp -d "${TMPDIR:-/tmp}/nimbusflow-soak.XXXXXX")"
AZURITE_PID=""
cleanup() {
  if [ -n "${AZURITE_PID:-}" ]; then
    scripts/azurite.sh stop "$AZURITE_PID" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${NIMBUS_SOAK_AZURITE:-}" ]; then
  NIMBUS_TEST_AZURITE="$NIMBUS_SOAK_AZURITE"
else
  azurite_env="$(scripts/azurite.sh start "$tmp/azurite")" || die "Azurite could not start; the soak's storage outage needs it"
  eval "$azurite_env"
fi
export NIMBUS_TEST_AZURITE

echo "soak: $dur against the real binary (faults on a schedule; table at the end)"
NIMBUS_SOAK_DURATION="$dur" go test ./handler -run '^TestSoak$' -count=1 -v -timeout "${limit}s"
