package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// soakMode is how the faulty callback answers right now.
type soakMode string

const (
	modeOK   soakMode = "ok"
	mode5xx  soakMode = "5xx"
	mode429  soakMode = "429"
	modeHang soakMode = "hang"
)

// soakSink records, per callback path, which events it acknowledged (2xx) and when; the
// path /faulty answers as the fault schedule says and /gone answers 410 once told to.
type soakSink struct {
	srv *httptest.Server

	mu      sync.Mutex
	mode    soakMode
	gone    bool
	firstOK map[string]map[string]time.Time // path → eventId → first 2xx
	oks     map[string]int                  // path → 2xx answers
	dupes   map[string]int                  // path → 2xx answers for an event already acknowledged
	answers map[string]int                  // "path status" → count
}

func newSoakSink(t *testing.T) *soakSink {
	s := &soakSink{mode: modeOK, firstOK: map[string]map[string]time.Time{}, oks: map[string]int{}, dupes: map[string]int{}, answers: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *soakSink) setMode(m soakMode) { s.mu.Lock(); s.mode = m; s.mu.Unlock() }
func (s *soakSink) setGone()           { s.mu.Lock(); s.gone = true; s.mu.Unlock() }

func (s *soakSink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var p struct {
		EventID string `json:"eventId"`
	}
	_ = json.Unmarshal(body, &p)
	path := r.URL.Path
	s.mu.Lock()
	status := http.StatusOK
	switch {
	case path == "/gone" && s.gone:
		status = http.StatusGone
	case path == "/faulty" && s.mode == mode5xx:
		status = []int{500, 502, 503}[len(p.EventID)%3]
	case path == "/faulty" && s.mode == mode429:
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", "1")
	case path == "/faulty" && s.mode == modeHang:
		s.answers[path+" hang"]++
		s.mu.Unlock()
		select { // the handler's delivery timeout ends the wait
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
		return
	}
	s.answers[path+" "+strconv.Itoa(status)]++
	if status == http.StatusOK {
		s.oks[path]++
		if s.firstOK[path] == nil {
			s.firstOK[path] = map[string]time.Time{}
		}
		if _, ok := s.firstOK[path][p.EventID]; ok {
			s.dupes[path]++
		} else {
			s.firstOK[path][p.EventID] = time.Now()
		}
	}
	s.mu.Unlock()
	w.WriteHeader(status)
}

// soakHandler is the real binary, killed with SIGKILL and restarted on the same address and
// data directory during the run.
type soakHandler struct {
	t    *testing.T
	env  []string
	base string
	cmd  *exec.Cmd
	logs *os.File
	cpu  time.Duration // CPU time of the incarnations that ended
	pid  atomic.Int64  // the running incarnation, read by the RSS sampler
}

func (h *soakHandler) start() {
	h.t.Helper()
	cmd := exec.Command(binary)
	cmd.Env = h.env
	cmd.Stdout, cmd.Stderr = io.Discard, h.logs
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.cmd = cmd
	h.pid.Store(int64(cmd.Process.Pid))
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(h.base + "/"); err == nil {
			res.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("the handler did not answer within 60 s after start")
}

// kill9 ends the handler without any chance to clean up.
func (h *soakHandler) kill9() {
	h.cpu += procCPU(h.cmd.Process.Pid)
	_ = h.cmd.Process.Signal(syscall.SIGKILL)
	_ = h.cmd.Wait()
}

func (h *soakHandler) stop() {
	if h.cmd == nil || h.cmd.ProcessState != nil {
		return
	}
	h.cpu += procCPU(h.cmd.Process.Pid)
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = h.cmd.Process.Kill()
		<-done
	}
}

func (h *soakHandler) totalCPU() time.Duration { return h.cpu + procCPU(h.cmd.Process.Pid) }

func (h *soakHandler) rssMiB() float64 { return procRSS(int(h.pid.Load())) }

// procCPU is the user plus system time of a process (Linux /proc; clock ticks of 1/100 s).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
}

// procRSS is the resident set size of a process in MiB.
func procRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb / 1024
		}
	}
	return 0
}
