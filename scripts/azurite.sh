#!/usr/bin/env bash
# Start or stop a throwaway Azurite (blob and table services) on free loopback ports.
#
#   eval "$(scripts/azurite.sh start WORKDIR)"   # sets NIMBUS_TEST_AZURITE and AZURITE_PID
#   scripts/azurite.sh stop "$AZURITE_PID"
#
# Azurite comes from scripts/node_modules (npm ci --prefix scripts). start prints only the
# export lines on stdout; diagnostics go to stderr. A failed start leaves nothing running,
# exits non-zero and prints "false" on stdout, so that the eval above fails too (eval of an
# empty string would succeed and hide the failure).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
azurite="$here/node_modules/.bin/azurite"
# Azurite's well-known development account (public, documented by Microsoft).
account=devstoreaccount1
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
start_timeout="${AZURITE_START_TIMEOUT:-60}" # seconds; overridable for testing this script

die() { echo "azurite.sh: $*" >&2; exit 1; }

# free_ports N prints N distinct free loopback ports. They are held open together while
# chosen, so they differ; another process could still take one before Azurite binds it,
# which the readiness check below then reports.
free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop() {
	local pid="$1"
	kill -0 "$pid" 2>/dev/null || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "azurite.sh: pid $pid did not stop within 10 s, killing it" >&2
	kill -9 "$pid" 2>/dev/null || true
}

start() {
	local workdir="$1"
	[[ -x "$azurite" ]] || die "$azurite not found; run: npm ci --prefix scripts"
	command -v python3 >/dev/null || die "python3 is needed to pick free ports"
	mkdir -p "$workdir"
	local log="$workdir/azurite.log"

	local blob_port queue_port table_port
	read -r blob_port queue_port table_port < <(free_ports 3)

	# The queue service cannot be turned off in the all-in-one binary; it gets a free port too.
	"$azurite" --location "$workdir" --silent --skipApiVersionCheck --loose --disableTelemetry \
		--blobHost 127.0.0.1 --blobPort "$blob_port" \
		--queueHost 127.0.0.1 --queuePort "$queue_port" \
		--tableHost 127.0.0.1 --tablePort "$table_port" \
		</dev/null >"$log" 2>&1 &
	local pid=$!
	# Whatever makes start fail from here on, Azurite must not outlive it.
	trap 'stop '"$pid"'; echo false' EXIT
	trap 'exit 1' INT TERM HUP

	local deadline=$((SECONDS + start_timeout))
	until port_open "$table_port" && port_open "$blob_port"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "azurite.sh: Azurite exited during startup; log tail:" >&2
			tail -n 30 "$log" >&2 || true
			exit 1
		fi
		if ((SECONDS >= deadline)); then
			echo "azurite.sh: Azurite did not accept connections on 127.0.0.1:$table_port within ${start_timeout} s; log tail:" >&2
			tail -n 30 "$log" >&2 || true
			exit 1
		fi
		sleep 0.2
	done

	local endpoint="http://127.0.0.1"
	printf "export NIMBUS_TEST_AZURITE='DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s:%s/%s;TableEndpoint=%s:%s/%s;'\n" \
		"$account" "$key" "$endpoint" "$blob_port" "$account" "$endpoint" "$table_port" "$account"
	printf "export AZURITE_PID=%s\n" "$pid"
	trap - EXIT INT TERM HUP
}

case "${1:-}" in
start)
	trap 'echo false' EXIT
	[[ $# -eq 2 ]] || die "usage: $0 start WORKDIR"
	start "$2"
	;;
stop)
	[[ $# -eq 2 && "$2" =~ ^[0-9]+$ ]] || die "usage: $0 stop PID"
	stop "$2"
	;;
*)
	die "usage: $0 start WORKDIR | stop PID"
	;;
esac
