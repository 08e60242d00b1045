package webhook

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// TestPostRefusesInternalAddresses runs the production policy against URLs and DNS answers
// that lead to internal addresses: every one must be refused before any connection is made.
func TestPostRefusesInternalAddresses(t *testing.T) {
	counter := newConnCounter(t)
	p := counter.port()
	dns := newFakeDNS(map[string][][]string{
		"evil.logic.azure.com":   {{"127.0.0.1"}},
		"example.com":            {{"127.0.0.1"}},
		"v6.logic.azure.com":     {{"::1"}},
		"mixed.logic.azure.com":  {{"20.50.2.1", "127.0.0.1"}},
		"mapped.logic.azure.com": {{"::ffff:10.0.0.1"}},
		"nat64.logic.azure.com":  {{"64:ff9b::7f00:1"}},
		"meta.logic.azure.com":   {{"169.254.169.254"}},
		"cgnat.logic.azure.com":  {{"100.64.0.1"}},
		"ula.azure-apim.net":     {{"fd00:ec2::254"}},
	})
	tests := []struct {
		name        string
		url         string
		wantLookups int
	}{
		{"http scheme", "http://evil.logic.azure.com:" + p + "/run?sig=x", 0},
		{"loopback literal", "https://127.0.0.1:" + p + "/run?sig=x", 0},
		{"private literal", "https://10.0.0.5/run?sig=x", 0},
		{"metadata literal", "https://169.254.169.254/latest/meta-data/", 0},
		{"ipv6 loopback literal", "https://[::1]:" + p + "/run?sig=x", 0},
		{"ipv4-mapped loopback literal", "https://[::ffff:127.0.0.1]:" + p + "/run?sig=x", 0},
		{"aws ipv6 metadata literal", "https://[fd00:ec2::254]/", 0},
		{"alibaba metadata literal", "https://100.100.100.200/", 0},
		{"azure wireserver literal", "https://168.63.129.16/", 0},
		{"host off the list", "https://example.com:" + p + "/run?sig=x", 0},
		{"allowed name resolving to loopback", "https://evil.logic.azure.com:" + p + "/run?sig=x", 1},
		{"allowed name resolving to ipv6 loopback", "https://v6.logic.azure.com:" + p + "/run?sig=x", 1},
		{"public and loopback answers", "https://mixed.logic.azure.com:" + p + "/run?sig=x", 1},
		{"ipv4-mapped private answer", "https://mapped.logic.azure.com:" + p + "/run?sig=x", 1},
		{"nat64 loopback answer", "https://nat64.logic.azure.com:" + p + "/run?sig=x", 1},
		{"metadata answer", "https://meta.logic.azure.com/run?sig=x", 1},
		{"cgnat answer", "https://cgnat.logic.azure.com/run?sig=x", 1},
		{"unique local answer", "https://ula.azure-apim.net/run?sig=x", 1},
	}
	c := New(Config{Resolver: dns.resolve})
	spy := spyOn(c)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dns.callCount()
			a := c.Post(context.Background(), tt.url, "msg_1", []byte("{}"), "")
			if want := (nimbus.Attempt{Err: ErrAddressNotAllowed}); a != want {
				t.Errorf("got %+v, want %+v", a, want)
			}
			if got := dns.callCount() - before; got != tt.wantLookups {
				t.Errorf("lookups: got %d, want %d", got, tt.wantLookups)
			}
			if got := spy.calls(); len(got) != 0 {
				t.Errorf("dialled %v, want no dial", got)
			}
			if got := counter.count(t); got != 0 {
				t.Errorf("connections: got %d, want 0", got)
			}
		})
	}
}

// TestDialerControl checks the last line of defence on its own: the production dialer
// refuses an internal address even when it is handed one directly.
func TestDialerControl(t *testing.T) {
	counter := newConnCounter(t)
	addr := netip.MustParseAddrPort(counter.ln.Addr().String())
	tests := []struct {
		name    string
		policy  Policy
		wantErr error
		wantN   int
	}{
		{"production", Policy{}, errNotAllowed, 0},
		{"insecure", insecure, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := New(Config{Policy: tt.policy}).dialAddr(context.Background(), "tcp", addr)
			if conn != nil {
				conn.Close()
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got err %v, want %v", err, tt.wantErr)
			}
			if got := counter.count(t); got != tt.wantN {
				t.Errorf("connections: got %d, want %d", got, tt.wantN)
			}
		})
	}
}

// productionServer is a TLS test server posing as the public host example.com at
// 20.50.2.1: the client runs the production policy, its resolver answers that address and
// its dial spy carries connections to 20.50.2.1 to the loopback server instead. With h2 the
// server speaks HTTP/2 and answers anything else with 505.
type productionServer struct {
	srv    *httptest.Server
	client *Client
	spy    *dialSpy
	dns    *fakeDNS
	hits   atomic.Int32
	url    string
	public netip.AddrPort
}

func newProductionServer(t *testing.T, h2 bool, answers [][]string, h http.HandlerFunc) *productionServer {
	t.Helper()
	ps := &productionServer{}
	ps.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.hits.Add(1)
		if h2 && r.ProtoMajor != 2 {
			w.WriteHeader(http.StatusHTTPVersionNotSupported)
			return
		}
		h(w, r)
	}))
	ps.srv.EnableHTTP2 = h2
	ps.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	ps.srv.StartTLS()
	t.Cleanup(ps.srv.Close)
	local := netip.MustParseAddrPort(ps.srv.Listener.Addr().String())
	ps.public = netip.AddrPortFrom(netip.MustParseAddr("20.50.2.1"), local.Port())
	ps.dns = newFakeDNS(map[string][][]string{"example.com": answers})
	ps.client = New(Config{Policy: Policy{AllowedHosts: []string{"example.com"}}, Resolver: ps.dns.resolve})
	roots := x509.NewCertPool()
	roots.AddCert(ps.srv.Certificate()) // valid for example.com
	ps.client.transport.TLSClientConfig.RootCAs = roots
	ps.spy = spyOn(ps.client)
	ps.spy.redirect[ps.public] = local.String()
	ps.url = "https://example.com:" + strconv.Itoa(int(local.Port()))
	return ps
}

func TestPostProductionHTTP2(t *testing.T) {
	ps := newProductionServer(t, true, [][]string{{"20.50.2.1"}}, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/loopback":
			http.Redirect(w, r, "https://example.com:1/", http.StatusTemporaryRedirect)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})
	tests := []struct {
		path string
		want int
	}{
		{"/run?sig=x", http.StatusAccepted},
		{"/metadata", http.StatusFound},
		{"/loopback", http.StatusTemporaryRedirect},
	}
	for _, tt := range tests {
		a := ps.client.Post(context.Background(), ps.url+tt.path, "msg_1", []byte("{}"), "")
		if want := (nimbus.Attempt{Status: tt.want}); a != want {
			t.Errorf("%s: got %+v, want %+v", tt.path, a, want)
		}
	}
	// One connection, multiplexed and reused; no dial ever went to a redirect's target.
	if got, want := ps.spy.calls(), []netip.AddrPort{ps.public}; !slices.Equal(got, want) {
		t.Errorf("dialled %v, want %v", got, want)
	}
	if got, want := ps.hits.Load(), int32(len(tests)); got != want {
		t.Errorf("server hits: got %d, want %d", got, want)
	}
}

// TestPostDNSRebinding: the callback host answers a public address, then 127.0.0.1. The
// address checked is the address dialled, so the second connection is refused whatever
// the first lookup said.
func TestPostDNSRebinding(t *testing.T) {
	// HTTP/1.1 with "Connection: close", so that the second attempt surely needs a new
	// connection, hence a new lookup: a pooled one would skip it.
	ps := newProductionServer(t, false, [][]string{{"20.50.2.1"}, {"127.0.0.1"}}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusOK)
	})
	steps := []nimbus.Attempt{{Status: 200}, {Err: ErrAddressNotAllowed}}
	for i, want := range steps {
		if got := ps.client.Post(context.Background(), ps.url+"/run?sig=x", "msg_1", []byte("{}"), ""); got != want {
			t.Errorf("attempt %d: got %+v, want %+v", i+1, got, want)
		}
	}
	if got, want := ps.dns.callCount(), 2; got != want {
		t.Errorf("lookups: got %d, want %d", got, want)
	}
	if got, want := ps.spy.calls(), []netip.AddrPort{ps.public}; !slices.Equal(got, want) {
		t.Errorf("dialled %v, want %v", got, want)
	}
	if got := ps.hits.Load(); got != 1 {
		t.Errorf("server hits: got %d, want 1", got)
	}
}

// TestPostRechecksPolicy: a URL stored under an older, wider policy is refused by the
// current one at post time, before any lookup.
func TestPostRechecksPolicy(t *testing.T) {
	dns := newFakeDNS(map[string][][]string{"old.example.net": {{"20.50.2.1"}}})
	c := New(Config{Resolver: dns.resolve})
	spy := spyOn(c)
	a := c.Post(context.Background(), "https://old.example.net/run?sig=x", "msg_1", []byte("{}"), "")
	if want := (nimbus.Attempt{Err: ErrAddressNotAllowed}); a != want {
		t.Errorf("got %+v, want %+v", a, want)
	}
	if dns.callCount() != 0 || len(spy.calls()) != 0 {
		t.Errorf("lookups %d, dials %v: want none", dns.callCount(), spy.calls())
	}
}
