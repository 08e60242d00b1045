#!/usr/bin/env bash
# Benchmarks that print figures measured in one run on this machine.
#
#   scripts/bench.sh startup [RUNS]   time from process start to the first answered GET /,
#                                     and RSS after seeding; target: median under 100 ms
#   scripts/bench.sh pipeline         event pipeline of the real binary over a loopback sink
#                                     (SPEC 12): throughput vs raw loopback POSTs (>= 0.5),
#                                     p99 latency (< 25 ms) and RSS (< 60 MB) at 1,000
#                                     events/s, matching cost 1 vs 10,000 other subscriptions
#                                     (<= 1.5); NIMBUS_BENCH_EVENTS (20000) and
#                                     NIMBUS_BENCH_SECONDS (10) change the sizes
#   scripts/bench.sh profile          the same bursts through the handler run in-process under
#                                     go test -cpuprofile; prints where the CPU time goes
#   scripts/bench.sh scheduler        scheduler (SPEC 6, 12): cost of one due-finding pass
#                                     with 1,000 vs 100,000 future entries (<= 1.5), and
#                                     how late 10,000 entries due in one second fire
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

startup() {
	local runs=${1:-15}
	local work
	work=$(mktemp -d)
	trap 'rm -rf "$work"' RETURN
	echo "building handler..."
	go build -o "$work/handler" ./handler
	python3 - "$work/handler" "$work" "$runs" <<'PY'
import os, socket, statistics, subprocess, sys, time

binary, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def one(data_dir):
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": work, "NIMBUS_ADDR": f"127.0.0.1:{port}", "NIMBUS_DATA_DIR": data_dir}
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"handler exited with {proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        took = (time.perf_counter() - t0) * 1000
                        return took, rss_kib(proc.pid)
            except OSError:
                time.sleep(0.0005)
            if time.perf_counter() - t0 > 30:
                raise SystemExit("handler did not answer within 30 s")
    finally:
        proc.terminate(); proc.wait(10)

def report(name, samples):
    ms = sorted(s[0] for s in samples); rss = sorted(s[1] for s in samples)
    print(f"{name:<34} runs={len(ms):>3}  median={statistics.median(ms):7.1f} ms  min={ms[0]:7.1f}  max={ms[-1]:7.1f}  "
          f"rss median={statistics.median(rss)/1024:5.1f} MiB  (target: median < 100 ms)")

cold = [one(os.path.join(work, f"cold{i}")) for i in range(max(3, runs // 3))]
warm_dir = os.path.join(work, "warm")
one(warm_dir)  # first start seeds the demo tenant and creates the dev key
warm = [one(warm_dir) for _ in range(runs)]
print(f"command: scripts/bench.sh startup {runs}")
report("cold start (new data dir, seeds)", cold)
report("restart (existing data dir)", warm)
PY
}

# pipeline runs the two benchmark tests (skipped in the normal suite unless NIMBUS_BENCH is
# set), handler/bench_pipeline_test.go against the real binary and handler/app/bench_test.go
# in-process, and prints the BENCH lines they write as one table.
pipeline() {
	local log
	log=$(mktemp)
	trap 'rm -f "$log"' RETURN
	# -p 1: the two packages must not run at the same time, or each would measure the other.
	local cmd=(go test -run 'TestBenchPipeline|TestBenchMatch' -count=1 -p 1 -v -timeout 20m ./handler/ ./handler/app/)
	echo "running: NIMBUS_BENCH=pipeline $(printf '%q ' "${cmd[@]}")"
	if ! NIMBUS_BENCH=pipeline "${cmd[@]}" >"$log" 2>&1; then
		cat "$log"
		echo "pipeline benchmark failed" >&2
		return 1
	fi
	echo "command: scripts/bench.sh pipeline  (NIMBUS_BENCH_EVENTS=${NIMBUS_BENCH_EVENTS:-20000} NIMBUS_BENCH_SECONDS=${NIMBUS_BENCH_SECONDS:-10})"
	echo "machine: $(nproc) cores, $(go env GOVERSION), $(date -u +%Y-%m-%dT%H:%MZ); all figures from this one run"
	echo "how each figure was measured:"
	grep '^BENCHNOTE' "$log" | cut -f2- | sed 's/^/  - /'
	echo
	grep '^BENCH	' "$log" | awk -F'\t' '
		BEGIN { printf "%-60s %-18s %-8s %s\n", "figure", "value", "target", "result" }
		{ printf "%-60s %-18s %-8s %s\n", $2, $3, $4, $5; if ($5 == "met") met++; if ($5 == "NOT MET") missed++ }
		END { printf "\ntargets met: %d of %d\n", met, met + missed }'
}

# profile runs handler/bench_profile_test.go (NIMBUS_BENCH=profile) with a CPU profile and
# prints the profile's top entries, cumulative, for the handler's packages and for all.
profile() {
	local work
	work=$(mktemp -d)
	trap 'rm -rf "$work"' RETURN
	local cmd=(go test -v -run TestProfilePipeline -count=1 -cpuprofile "$work/cpu.out" -o "$work/handler.test" ./handler/)
	echo "running: NIMBUS_BENCH=profile $(printf '%q ' "${cmd[@]}")"
	NIMBUS_BENCH=profile "${cmd[@]}" | grep '^BENCH' | cut -f2,3 | column -t -s $'\t'
	echo
	echo "where the time goes (cumulative; handler, ingest clients and sink share the process):"
	go tool pprof -top -cum -nodecount=400 "$work/handler.test" "$work/cpu.out" 2>/dev/null |
		grep -E 'Duration|nimbusflow/connector/handler/(app|embedded|webhook|httpapi|entra)\.|json\.(Unmarshal|Marshal)$|bbolt\.\(\*DB\)\.Update|runtime\.(mallocgc|gcBgMarkWorker)$|syscall\.Syscall$' | head -40
}

# scheduler runs handler/app/bench_scheduler_test.go (skipped unless NIMBUS_BENCH is set)
# and prints its BENCH lines as one table.
scheduler() {
	local log
	log=$(mktemp)
	trap 'rm -f "$log"' RETURN
	local cmd=(go test -run 'TestBenchScheduler' -count=1 -v -timeout 20m ./handler/app/)
	echo "running: NIMBUS_BENCH=scheduler $(printf '%q ' "${cmd[@]}")"
	if ! NIMBUS_BENCH=scheduler "${cmd[@]}" >"$log" 2>&1; then
		cat "$log"
		echo "scheduler benchmark failed" >&2
		return 1
	fi
	echo "command: scripts/bench.sh scheduler"
	echo "machine: $(nproc) cores, $(go env GOVERSION), $(date -u +%Y-%m-%dT%H:%MZ); all figures from this one run"
	echo "how each figure was measured:"
	grep '^BENCHNOTE' "$log" | cut -f2- | sed 's/^/  - /'
	echo
	grep '^BENCH	' "$log" | awk -F'\t' '
		BEGIN { printf "%-62s %-18s %-8s %s\n", "figure", "value", "target", "result" }
		{ printf "%-62s %-18s %-8s %s\n", $2, $3, $4, $5 }'
}

case "${1:-}" in
	startup) shift; startup "$@" ;;
	pipeline) shift; pipeline "$@" ;;
	profile) shift; profile "$@" ;;
	scheduler) shift; scheduler "$@" ;;
	*) usage ;;
esac
