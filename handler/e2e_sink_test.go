package main

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink is a loopback callback receiver standing in for Power Automate: it records every
// notification and answers per path from a script.
type sink struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	got      []received
	scripts  map[string][]answer // path → answers, consumed in order; then 200
	notify   chan struct{}
	hangTime time.Duration
	jitter   map[string]time.Duration // path → answers take a random time up to this
}

type received struct {
	path    string
	at      time.Time
	header  http.Header
	body    []byte
	payload map[string]any
}

type answer struct {
	status     int
	retryAfter string
	hang       bool
}

func newSink(t *testing.T) *sink {
	s := &sink{t: t, scripts: map[string][]answer{}, notify: make(chan struct{}, 1<<16), hangTime: 10 * time.Second, jitter: map[string]time.Duration{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var payload map[string]any
	_ = json.Unmarshal(body, &payload)
	s.mu.Lock()
	s.got = append(s.got, received{path: r.URL.Path, at: time.Now(), header: r.Header.Clone(), body: body, payload: payload})
	a := answer{status: 200}
	if list := s.scripts[r.URL.Path]; len(list) > 0 {
		a, s.scripts[r.URL.Path] = list[0], list[1:]
	}
	hang, jitter := s.hangTime, s.jitter[r.URL.Path]
	s.mu.Unlock()
	s.notify <- struct{}{}
	if jitter > 0 {
		time.Sleep(rand.N(jitter))
	}
	if a.hang {
		select {
		case <-time.After(hang):
		case <-r.Context().Done():
		}
		return
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.WriteHeader(a.status)
}

// slowly makes every answer on path take a random time up to d, as a real receiver's
// answers vary: concurrent requests to it then finish in any order.
func (s *sink) slowly(path string, d time.Duration) {
	s.mu.Lock()
	s.jitter[path] = d
	s.mu.Unlock()
}

// script makes path answer with these answers first.
func (s *sink) script(path string, answers ...answer) {
	s.mu.Lock()
	s.scripts[path] = append(s.scripts[path], answers...)
	s.mu.Unlock()
}

func (s *sink) url(path string) string { return s.srv.URL + path }

// at returns the notifications received on path so far.
func (s *sink) at(path string) []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []received
	for _, r := range s.got {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

// wait waits until path has received n notifications or the timeout passes.
func (s *sink) wait(path string, n int, timeout time.Duration) []received {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		if got := s.at(path); len(got) >= n {
			return got
		}
		select {
		case <-s.notify:
		case <-deadline:
			got := s.at(path)
			s.t.Fatalf("%s: received %d notifications, want %d within %v", path, len(got), n, timeout)
			return got
		}
	}
}

// quiet asserts that path receives nothing more than it has within d.
func (s *sink) quiet(path string, d time.Duration) {
	s.t.Helper()
	before := len(s.at(path))
	time.Sleep(d)
	if after := len(s.at(path)); after != before {
		s.t.Errorf("%s: received %d more notifications, want none", path, after-before)
	}
}

func field(r received, name string) string {
	switch v := r.payload[name].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return strings.TrimSpace(string(b))
	}
}
