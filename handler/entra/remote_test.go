package entra

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// idp is a test OpenID provider: metadata at /.well-known/openid-configuration, the JWKS at
// /keys. Its keys and failure modes can change while a test runs.
type idp struct {
	t   *testing.T
	srv *httptest.Server

	metadataHits atomic.Int32
	jwksHits     atomic.Int32

	mu           sync.Mutex
	jwks         []byte
	metadataCode int // answer instead of the document when non-zero
	jwksCode     int
	jwksURI      string // overrides the advertised jwks_uri when set
}

func newIDP(t *testing.T, keys map[string]*rsa.PrivateKey) *idp {
	t.Helper()
	p := &idp{t: t, jwks: jwksOf(t, keys)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.metadataHits.Add(1)
		p.mu.Lock()
		code, uri := p.metadataCode, p.jwksURI
		p.mu.Unlock()
		if code != 0 {
			http.Error(w, "nope", code)
			return
		}
		if uri == "" {
			uri = p.srv.URL + "/keys"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","jwks_uri":"` + uri + `"}`))
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		p.mu.Lock()
		code, body := p.jwksCode, p.jwks
		p.mu.Unlock()
		if code != 0 {
			http.Error(w, "nope", code)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) metadataURL() string { return p.srv.URL + "/.well-known/openid-configuration" }

func (p *idp) set(f func(p *idp)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func newRemote(t *testing.T, p *idp) *RemoteKeySet {
	t.Helper()
	ks, err := NewRemoteKeySet(context.Background(), p.metadataURL(), p.srv.Client())
	if err != nil {
		t.Fatalf("NewRemoteKeySet: %v", err)
	}
	t.Cleanup(func() { ks.Close() })
	return ks
}

func remoteValidator(ks KeySet) *Validator {
	return NewValidator(Config{
		Audiences:   []string{audience},
		TenantKnown: knownTenants(tenantA),
		Now:         func() time.Time { return testNow },
	}, ks)
}

func TestRemoteKeySetValidatesAndCaches(t *testing.T) {
	p := newIDP(t, map[string]*rsa.PrivateKey{kidA: testKey(t, 0)})
	ks := newRemote(t, p)
	if got := p.metadataHits.Load() + p.jwksHits.Load(); got != 0 {
		t.Fatalf("got %d requests before first use, want 0: start must not block on the network", got)
	}
	v := remoteValidator(ks)
	for i := range 3 {
		if _, err := v.Validate(context.Background(), sign(t, testKey(t, 0), kidA, userClaims())); err != nil {
			t.Fatalf("validation %d: got error %v, want none", i, err)
		}
	}
	if got, want := p.metadataHits.Load(), int32(1); got != want {
		t.Errorf("got %d metadata requests, want %d", got, want)
	}
	if got, want := p.jwksHits.Load(), int32(1); got != want {
		t.Errorf("got %d jwks requests, want %d", got, want)
	}
}

func TestRemoteKeySetConcurrentFirstUse(t *testing.T) {
	p := newIDP(t, map[string]*rsa.PrivateKey{kidA: testKey(t, 0)})
	v := remoteValidator(newRemote(t, p))
	token := sign(t, testKey(t, 0), kidA, userClaims())
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := v.Validate(context.Background(), token); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("got error %v, want none", err)
	}
	if got, want := p.metadataHits.Load(), int32(1); got != want {
		t.Errorf("got %d metadata requests, want %d: one load serves all waiting callers", got, want)
	}
}

func TestRemoteKeySetKeyRotation(t *testing.T) {
	p := newIDP(t, map[string]*rsa.PrivateKey{kidA: testKey(t, 0)})
	v := remoteValidator(newRemote(t, p))
	ctx := context.Background()
	if _, err := v.Validate(ctx, sign(t, testKey(t, 0), kidA, userClaims())); err != nil {
		t.Fatalf("before rotation: got error %v, want none", err)
	}

	// The provider rotates: kidA is gone, kidB is new.
	p.set(func(p *idp) { p.jwks = jwksOf(t, map[string]*rsa.PrivateKey{kidB: testKey(t, 2)}) })
	if _, err := v.Validate(ctx, sign(t, testKey(t, 2), kidB, userClaims())); err != nil {
		t.Fatalf("new key after rotation: got error %v, want none", err)
	}
	if got, want := p.jwksHits.Load(), int32(2); got != want {
		t.Errorf("got %d jwks requests, want %d (one refresh for the unknown kid)", got, want)
	}
	token := sign(t, testKey(t, 0), kidA, userClaims())
	_, err := v.Validate(ctx, token)
	wantUnauthenticated(t, err, "The token's signing key is not recognised.", token)

	// Another unknown kid right away must not trigger another fetch: refreshes are rate-limited.
	token = sign(t, testKey(t, 1), "forged-kid", userClaims())
	_, err = v.Validate(ctx, token)
	wantUnauthenticated(t, err, "The token's signing key is not recognised.", token)
	if got, want := p.jwksHits.Load(), int32(2); got != want {
		t.Errorf("got %d jwks requests, want %d (rate-limited)", got, want)
	}
}

func TestRemoteKeySetUnavailable(t *testing.T) {
	tests := []struct {
		name  string
		setup func(p *idp)
	}{
		{"metadata answers 500", func(p *idp) { p.metadataCode = http.StatusInternalServerError }},
		{"jwks answers 404", func(p *idp) { p.jwksCode = http.StatusNotFound }},
		{"jwks_uri over plain http to a remote host", func(p *idp) { p.jwksURI = "http://keys.example.com/keys" }},
		{"jwks_uri missing", func(p *idp) { p.jwksURI = "/keys" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newIDP(t, map[string]*rsa.PrivateKey{kidA: testKey(t, 0)})
			p.set(tt.setup)
			_, err := remoteValidator(newRemote(t, p)).Validate(context.Background(), sign(t, testKey(t, 0), kidA, userClaims()))
			if !errors.Is(err, nimbus.ErrUnavailable) {
				t.Errorf("got %v, want KindUnavailable", err)
			}
		})
	}
}

func TestRemoteKeySetRetriesLoadAfterDelay(t *testing.T) {
	p := newIDP(t, map[string]*rsa.PrivateKey{kidA: testKey(t, 0)})
	p.set(func(p *idp) { p.metadataCode = http.StatusServiceUnavailable })
	ks := newRemote(t, p)
	clock := testNow
	ks.now = func() time.Time { return clock }
	ctx := context.Background()

	for i := range 2 {
		if _, err := ks.Key(ctx, kidA); !errors.Is(err, nimbus.ErrUnavailable) {
			t.Fatalf("call %d: got %v, want KindUnavailable", i, err)
		}
	}
	if got, want := p.metadataHits.Load(), int32(1); got != want {
		t.Errorf("got %d metadata requests, want %d: a failed load fails fast for a while", got, want)
	}

	p.set(func(p *idp) { p.metadataCode = 0 })
	clock = clock.Add(loadRetryDelay + time.Second)
	if _, err := ks.Key(ctx, kidA); err != nil {
		t.Fatalf("after the retry delay: got %v, want the key", err)
	}
}

func TestRemoteKeySetUnknownKidWhileKeysUnreachable(t *testing.T) {
	p := newIDP(t, map[string]*rsa.PrivateKey{kidA: testKey(t, 0)})
	ks := newRemote(t, p)
	ctx := context.Background()
	if _, err := ks.Key(ctx, kidA); err != nil {
		t.Fatalf("first load: got %v, want the key", err)
	}
	p.set(func(p *idp) { p.jwksCode = http.StatusBadGateway })
	if _, err := ks.Key(ctx, kidB); !errors.Is(err, nimbus.ErrUnavailable) {
		t.Errorf("unknown kid with failing refresh: got %v, want KindUnavailable", err)
	}
	if _, err := ks.Key(ctx, kidA); err != nil {
		t.Errorf("cached key while jwks is down: got %v, want the key", err)
	}
}

func TestRemoteKeySetClosed(t *testing.T) {
	p := newIDP(t, map[string]*rsa.PrivateKey{kidA: testKey(t, 0)})
	ks := newRemote(t, p)
	if _, err := ks.Key(context.Background(), kidA); err != nil {
		t.Fatalf("got %v, want the key", err)
	}
	ks.Close()
	if _, err := ks.Key(context.Background(), kidA); !errors.Is(err, nimbus.ErrUnavailable) {
		t.Errorf("after Close: got %v, want KindUnavailable", err)
	}
}

func TestNewRemoteKeySetURL(t *testing.T) {
	tests := []struct {
		url    string
		wantOK bool
	}{
		{"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration", true},
		{"http://127.0.0.1:7071/dev/.well-known/openid-configuration", true},
		{"http://localhost:7071/dev/.well-known/openid-configuration", true},
		{"http://[::1]:7071/x", true},
		{"http://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration", false},
		{"/relative/path", false},
		{"", false},
		{"ftp://example.com/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			ks, err := NewRemoteKeySet(context.Background(), tt.url, nil)
			if got := err == nil; got != tt.wantOK {
				t.Fatalf("got error %v, want ok=%v", err, tt.wantOK)
			}
			if err != nil {
				if !errors.Is(err, nimbus.ErrInvalid) {
					t.Errorf("got %v, want KindInvalid", err)
				}
				return
			}
			ks.Close()
		})
	}
}
