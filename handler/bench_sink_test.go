package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The measuring side of TestBenchPipeline: a lightweight sink, process probes (RSS, CPU) and
// the printing of figures.

// benchSampleRSS reads the VmRSS of pid every 100 ms until stop is closed, then sends the samples
// (KiB).
func benchSampleRSS(pid int, stop <-chan struct{}) <-chan []int64 {
	out := make(chan []int64, 1)
	go func() {
		var samples []int64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if kib := benchVmRSS(pid); kib > 0 {
				samples = append(samples, kib)
			}
			select {
			case <-stop:
				out <- samples
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// benchCPU is the CPU time (user and system) pid has used so far, in the kernel's clock
// ticks of 10 ms (USER_HZ is 100 on Linux), so only differences over seconds mean much.
func benchCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces; utime and stime are the 12th and
	// 13th fields after it.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.ParseInt(f[11], 10, 64)
	system, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(user+system) * 10 * time.Millisecond
}

func benchVmRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}

// benchSink is the loopback callback of the benchmark, used by the pipeline and the
// baseline alike. It does what the cheapest real flow endpoint does, read the body and
// answer 200, and notes when each event's first notification arrived on the test
// process's monotonic clock (the recording sink of the other tests keeps every header and
// payload, which would weigh on the figures and on memory).
type benchSink struct {
	srv   *httptest.Server
	epoch time.Time
	run   atomic.Pointer[benchRun]
	bufs  sync.Pool
}

// benchRun collects the notifications of one phase: the event ids are prefix + index.
type benchRun struct {
	prefix string
	sent   []atomic.Int64 // ns since the epoch just before the request carrying event i went out
	acked  []atomic.Int64 // ns since the epoch when its ingest request was answered
	got    []atomic.Int64 // ns since the epoch of its first notification; 0: none yet
	bodies [][]byte       // the notifications themselves, when kept
	unique atomic.Int64
	dups   atomic.Int64
	done   chan struct{}
}

func newBenchSink(t *testing.T) *benchSink {
	s := &benchSink{epoch: time.Now(), bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// now is the time since the epoch (monotonic).
func (s *benchSink) now() time.Duration { return time.Since(s.epoch) }

func (s *benchSink) begin(prefix string, n int, keep bool) *benchRun {
	r := &benchRun{prefix: prefix, sent: make([]atomic.Int64, n), acked: make([]atomic.Int64, n), got: make([]atomic.Int64, n), done: make(chan struct{})}
	if keep {
		r.bodies = make([][]byte, n)
	}
	s.run.Store(r)
	return r
}

func (s *benchSink) serve(w http.ResponseWriter, req *http.Request) {
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(req.Body)
	at := int64(s.now())
	if r := s.run.Load(); err == nil && r != nil {
		r.record(buf.Bytes(), at)
	}
	s.bufs.Put(buf)
	w.WriteHeader(http.StatusOK)
}

func (r *benchRun) record(body []byte, at int64) {
	id, ok := strings.CutPrefix(benchEventID(body), r.prefix)
	i, err := strconv.Atoi(id)
	if !ok || err != nil || i < 0 || i >= len(r.got) {
		return // a late notification of an earlier phase
	}
	if !r.got[i].CompareAndSwap(0, at) {
		r.dups.Add(1)
		return
	}
	if r.bodies != nil {
		r.bodies[i] = bytes.Clone(body) // before the count, which publishes it
	}
	if r.unique.Add(1) == int64(len(r.got)) {
		close(r.done)
	}
}

// wait reports whether every event's notification arrived within timeout.
func (r *benchRun) wait(timeout time.Duration) bool {
	select {
	case <-r.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// last is the arrival of the latest first notification, since the epoch.
func (r *benchRun) last() time.Duration {
	var last int64
	for i := range r.got {
		last = max(last, r.got[i].Load())
	}
	return time.Duration(last)
}

// medianBody is the kept notification of median size.
func (r *benchRun) medianBody() []byte {
	bodies := slices.Clone(r.bodies)
	slices.SortFunc(bodies, func(a, b []byte) int { return len(a) - len(b) })
	return bodies[len(bodies)/2]
}

var benchEventIDField = []byte(`"eventId":"`)

// benchEventID finds the eventId of a notification without decoding the rest of it.
func benchEventID(body []byte) string {
	_, rest, ok := bytes.Cut(body, benchEventIDField)
	if !ok {
		return ""
	}
	id, _, _ := bytes.Cut(rest, []byte(`"`))
	return string(id)
}

// benchLine prints one row of the summary; a figure without a target has no verdict.
func benchLine(name, value, target, verdict string) {
	fmt.Printf("BENCH\t%s\t%s\t%s\t%s\n", name, value, target, verdict)
}

func benchNote(format string, args ...any) { fmt.Printf("BENCHNOTE\t"+format+"\n", args...) }

func benchVerdict(met bool) string {
	if met {
		return "met"
	}
	return "NOT MET"
}

func benchMS(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// benchMB converts KiB (as /proc reports them) to MB of 10^6 bytes, the unit of the target.
func benchMB(kib int64) float64 { return float64(kib) * 1024 / 1e6 }

func benchMedian(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}

func benchMax(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Max(v)
}

func benchEnvInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}
