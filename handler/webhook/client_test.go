package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// insecure is the local-testing policy: the test servers listen on loopback over http.
var insecure = Policy{AllowInsecure: true}

type captured struct {
	header http.Header
	body   []byte
}

func TestPostHeadersAndSignature(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	b64 := base64.StdEncoding.EncodeToString(key)
	tests := []struct {
		name   string
		secret string
		signed bool
	}{
		{"whsec secret", "whsec_" + b64, true},
		{"plain base64 secret", b64, true},
		{"no secret", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan captured, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				got <- captured{r.Header.Clone(), body}
				w.WriteHeader(http.StatusAccepted)
			}))
			defer srv.Close()
			c := New(Config{Policy: insecure, UserAgent: "test-agent/1"})
			body := []byte(`{"taskId":"t1","event":"InQueue"}`)
			before := time.Now().Unix()
			a := c.Post(context.Background(), srv.URL+"/run?sig=abc", "msg_1", body, tt.secret)
			after := time.Now().Unix()
			if want := (nimbus.Attempt{Status: 202}); a != want {
				t.Fatalf("got %+v, want %+v", a, want)
			}
			req := <-got
			h := req.header
			for name, want := range map[string]string{
				"Content-Type": "application/json",
				"User-Agent":   "test-agent/1",
				"webhook-id":   "msg_1",
			} {
				if got := h.Get(name); got != want {
					t.Errorf("%s: got %q, want %q", name, got, want)
				}
			}
			if got := string(req.body); got != string(body) {
				t.Errorf("body: got %q, want %q", got, body)
			}
			ts := h.Get("webhook-timestamp")
			n, err := strconv.ParseInt(ts, 10, 64)
			if err != nil || n < before || n > after {
				t.Errorf("webhook-timestamp: got %q, want unix seconds in [%d, %d]", ts, before, after)
			}
			sig := h.Get("webhook-signature")
			if !tt.signed {
				if _, ok := h["Webhook-Signature"]; ok {
					t.Errorf("webhook-signature: got %q, want no header", sig)
				}
				return
			}
			m := hmac.New(sha256.New, key)
			m.Write([]byte("msg_1." + ts + "." + string(body)))
			if want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
				t.Errorf("webhook-signature: got %q, want %q", sig, want)
			}
		})
	}
}

func TestPostInvalidSecretSendsNothing(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	a := New(Config{Policy: insecure}).Post(context.Background(), srv.URL, "msg_1", []byte("{}"), "whsec_not base64!")
	if want := (nimbus.Attempt{Err: "invalid signing secret"}); a != want {
		t.Errorf("got %+v, want %+v", a, want)
	}
	if got := hits.Load(); got != 0 {
		t.Errorf("server hits: got %d, want 0", got)
	}
}

func TestPostStatuses(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { targetHits.Add(1) }))
	defer target.Close()
	date := time.Now().Add(120 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		wantRetry  [2]time.Duration // inclusive bounds
		wantResult nimbus.Outcome
	}{
		{"200", 200, nil, [2]time.Duration{}, nimbus.OutcomeDelivered},
		{"202", 202, nil, [2]time.Duration{}, nimbus.OutcomeDelivered},
		{"204", 204, nil, [2]time.Duration{}, nimbus.OutcomeDelivered},
		{"410", 410, nil, [2]time.Duration{}, nimbus.OutcomeGone},
		{"404", 404, nil, [2]time.Duration{}, nimbus.OutcomeNotFound},
		{"429 with seconds", 429, map[string]string{"Retry-After": "2"}, [2]time.Duration{2 * time.Second, 2 * time.Second}, nimbus.OutcomeRetry},
		{"429 with date", 429, map[string]string{"Retry-After": date}, [2]time.Duration{118 * time.Second, 120 * time.Second}, nimbus.OutcomeRetry},
		{"429 capped", 429, map[string]string{"Retry-After": "86400"}, [2]time.Duration{time.Hour, time.Hour}, nimbus.OutcomeRetry},
		{"503 with seconds", 503, map[string]string{"Retry-After": "30"}, [2]time.Duration{30 * time.Second, 30 * time.Second}, nimbus.OutcomeRetry},
		{"503 without header", 503, nil, [2]time.Duration{}, nimbus.OutcomeRetry},
		{"500", 500, nil, [2]time.Duration{}, nimbus.OutcomeRetry},
		{"408", 408, nil, [2]time.Duration{}, nimbus.OutcomeRetry},
		{"400", 400, nil, [2]time.Duration{}, nimbus.OutcomePermanent},
		{"401", 401, nil, [2]time.Duration{}, nimbus.OutcomePermanent},
		{"Retry-After on any status", 200, map[string]string{"Retry-After": "5"}, [2]time.Duration{5 * time.Second, 5 * time.Second}, nimbus.OutcomeDelivered},
		{"301 not followed", 301, map[string]string{"Location": target.URL + "/moved"}, [2]time.Duration{}, nimbus.OutcomePermanent},
		{"302 not followed", 302, map[string]string{"Location": target.URL + "/moved"}, [2]time.Duration{}, nimbus.OutcomePermanent},
		{"307 not followed", 307, map[string]string{"Location": target.URL + "/moved"}, [2]time.Duration{}, nimbus.OutcomePermanent},
		{"308 not followed", 308, map[string]string{"Location": target.URL + "/moved"}, [2]time.Duration{}, nimbus.OutcomePermanent},
	}
	c := New(Config{Policy: insecure})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, `{"error":"details the client does not read"}`)
			}))
			defer srv.Close()
			a := c.Post(context.Background(), srv.URL+"/run?sig=abc", "msg_1", []byte("{}"), "")
			if a.Status != tt.status || a.Err != "" {
				t.Errorf("got %+v, want Status %d and no Err", a, tt.status)
			}
			if a.RetryAfter < tt.wantRetry[0] || a.RetryAfter > tt.wantRetry[1] {
				t.Errorf("RetryAfter: got %v, want %v..%v", a.RetryAfter, tt.wantRetry[0], tt.wantRetry[1])
			}
			if got := a.Classify(); got != tt.wantResult {
				t.Errorf("Classify: got %v, want %v", got, tt.wantResult)
			}
		})
	}
	if got := targetHits.Load(); got != 0 {
		t.Errorf("redirect target hits: got %d, want 0", got)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"2", 2 * time.Second},
		{" 7 ", 7 * time.Second},
		{"0", 0},
		{"3600", time.Hour},
		{"3601", time.Hour},
		{"99999999999999999999999", time.Hour},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"Sun, 01 Mar 2026 12:01:30 GMT", 90 * time.Second},
		{"Sunday, 01-Mar-26 12:01:30 GMT", 90 * time.Second},
		{"Sun Mar  1 12:01:30 2026", 90 * time.Second},
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0},
		{"Mon, 02 Mar 2026 12:00:00 GMT", time.Hour},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.value, now); got != tt.want {
			t.Errorf("retryAfter(%q): got %v, want %v", tt.value, got, tt.want)
		}
	}
}

func TestTransportSettings(t *testing.T) {
	c := New(Config{MaxPerHost: 7})
	tr := c.transport
	if tr.Proxy != nil {
		t.Error("Proxy: got a proxy function, want nil (a proxy would bypass the dialer's checks)")
	}
	if tr == http.DefaultTransport {
		t.Error("transport: got http.DefaultTransport, want a private one")
	}
	if !tr.ForceAttemptHTTP2 {
		t.Error("ForceAttemptHTTP2: got false, want true")
	}
	if tr.DisableKeepAlives {
		t.Error("DisableKeepAlives: got true, want false")
	}
	if got, want := tr.MaxIdleConnsPerHost, 7; got != want {
		t.Errorf("MaxIdleConnsPerHost: got %d, want %d", got, want)
	}
	if got, want := tr.TLSClientConfig.MinVersion, uint16(tls.VersionTLS12); got != want {
		t.Errorf("TLS MinVersion: got %x, want %x", got, want)
	}
	if c.timeout != DefaultTimeout || c.userAgent != DefaultUserAgent || c.maxPerHost != 7 {
		t.Errorf("defaults: got timeout %v, user agent %q, max %d", c.timeout, c.userAgent, c.maxPerHost)
	}
}

func TestPostConcurrent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := New(Config{Policy: insecure, MaxPerHost: 8})
	const workers, each = 32, 20
	var wg sync.WaitGroup
	var busy, failed atomic.Int32
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				release, ok := c.Acquire(srv.URL)
				if !ok {
					busy.Add(1)
					time.Sleep(time.Millisecond)
					continue
				}
				a := c.Post(context.Background(), srv.URL, "msg_"+strconv.Itoa(w*each+i), []byte("{}"), "whsec_"+base64.StdEncoding.EncodeToString(make([]byte, 32)))
				release()
				if a.Status != http.StatusNoContent {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := failed.Load(); got != 0 {
		t.Errorf("failed attempts: got %d, want 0", got)
	}
	if got, want := hits.Load()+busy.Load(), int32(workers*each); got != want {
		t.Errorf("hits + postponed: got %d, want %d", got, want)
	}
}

func TestPostReusesConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2")
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := New(Config{Policy: insecure})
	for range 20 {
		if a := c.Post(context.Background(), srv.URL, "msg_1", []byte("{}"), ""); a.Status != 200 {
			t.Fatalf("got %+v, want Status 200", a)
		}
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("connections for 20 sequential posts: got %d, want 1", got)
	}
}
