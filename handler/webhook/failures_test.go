package webhook

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func TestPostTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // after the body, the server notices the client hanging up
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	c := New(Config{Policy: insecure, Timeout: 200 * time.Millisecond})
	start := time.Now()
	a := c.Post(context.Background(), srv.URL, "msg_1", []byte("{}"), "")
	elapsed := time.Since(start)
	if want := (nimbus.Attempt{Err: "timeout"}); a != want {
		t.Errorf("got %+v, want %+v", a, want)
	}
	if elapsed < 200*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("elapsed: got %v, want 200ms..2s", elapsed)
	}
}

func TestPostTimeoutCoversHeaders(t *testing.T) {
	// A server that accepts the connection and never answers: the timeout must not wait
	// for a response header forever.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, conn); conn.Close() }()
		}
	}()
	c := New(Config{Policy: insecure, Timeout: 200 * time.Millisecond})
	start := time.Now()
	a := c.Post(context.Background(), "http://"+ln.Addr().String()+"/", "msg_1", []byte("{}"), "")
	if want := (nimbus.Attempt{Err: "timeout"}); a != want {
		t.Errorf("got %+v, want %+v", a, want)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("elapsed: got %v, want at most 2s", elapsed)
	}
	ln.Close()
	c.transport.CloseIdleConnections()
}

func TestPostDoesNotReadEndlessBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat("x", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := New(Config{Policy: insecure, Timeout: 10 * time.Second})
	start := time.Now()
	a := c.Post(context.Background(), srv.URL, "msg_1", []byte("{}"), "")
	if want := (nimbus.Attempt{Status: 200}); a != want {
		t.Errorf("got %+v, want %+v", a, want)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("elapsed: got %v, want well under the 10s timeout", elapsed)
	}
}

func TestPostTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()

	hangup := newHangup(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	dns := newFakeDNS(map[string][][]string{"empty.test": {{}}})

	tests := []struct {
		name string
		ctx  context.Context
		url  string
		want string
	}{
		{"connection refused", context.Background(), "http://" + closedAddr + "/run?sig=SECRET", "connection refused"},
		{"closed without answer", context.Background(), "http://" + hangup + "/run?sig=SECRET", "connection closed before a response"},
		{"unknown host", context.Background(), "http://nowhere.test/run?sig=SECRET", "host name lookup failed"},
		{"host without addresses", context.Background(), "http://empty.test/run?sig=SECRET", "host name lookup failed"},
		{"caller canceled", canceled, "http://" + hangup + "/run?sig=SECRET", "canceled"},
	}
	c := New(Config{Policy: insecure, Resolver: dns.resolve})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := c.Post(tt.ctx, tt.url, "msg_1", []byte("{}"), "")
			if want := (nimbus.Attempt{Err: tt.want}); a != want {
				t.Errorf("got %+v, want %+v", a, want)
			}
			if a.Classify() != nimbus.OutcomeRetry {
				t.Errorf("Classify: got %v, want retry", a.Classify())
			}
		})
	}
}

// newHangup listens on loopback and closes every connection without answering.
func newHangup(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1024)
			conn.Read(buf)
			conn.Close()
		}
	}()
	return ln.Addr().String()
}

func TestPostTLSErrorDoesNotLeakURL(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	// The test server's certificate is not trusted by a fresh client.
	a := New(Config{Policy: insecure}).Post(context.Background(), srv.URL+"/run?sig=SECRET", "msg_1", []byte("{}"), "")
	if want := (nimbus.Attempt{Err: "tls handshake failed"}); a != want {
		t.Errorf("got %+v, want %+v", a, want)
	}
}
