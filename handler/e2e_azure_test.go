package main

import (
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// azurite returns the connection string of the Azurite instance the test script started.
func azurite(t *testing.T) string {
	t.Helper()
	cs := os.Getenv("NIMBUS_TEST_AZURITE")
	if cs == "" {
		t.Skip("NIMBUS_TEST_AZURITE is not set; scripts/test.sh starts Azurite and sets it")
	}
	return cs
}

// outageProxy is a loopback TCP proxy in front of storage that can be cut and restored, to
// show what callers see while storage is unreachable.
type outageProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newOutageProxy(t *testing.T, target string) *outageProxy {
	p := &outageProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	p.up("127.0.0.1:0")
	t.Cleanup(p.down)
	return p
}

func (p *outageProxy) up(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *outageProxy) pipe(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	_, _ = io.Copy(c, s)
	c.Close()
}

// down refuses new connections and cuts the open ones.
func (p *outageProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

var tableEndpoint = regexp.MustCompile(`TableEndpoint=http://([^/;]+)/`)

// While storage is unreachable every call answers 503 Unavailable with Retry-After, never a
// 500, and a write that failed is not half-applied once storage is back.
func TestEndToEndStorageOutage(t *testing.T) {
	cs := azurite(t)
	m := tableEndpoint.FindStringSubmatch(cs)
	if m == nil {
		t.Fatalf("no TableEndpoint in NIMBUS_TEST_AZURITE")
	}
	proxy := newOutageProxy(t, m[1])
	p := start(t, map[string]string{
		"NIMBUS_STORAGE":  strings.Replace(cs, m[0], "TableEndpoint=http://"+proxy.addr+"/", 1),
		"NIMBUS_DEV_AUTH": "true",
		"NIMBUS_DATA_DIR": t.TempDir(),
	})
	d := p.demo()
	admin := p.token(d.TenantID, d.Users.TenantAdmin)
	book := "/v2/AddressBooks/" + d.AddressBooks[0].ID + "/contacts"
	if r := p.call("POST", book+"/clear", admin, nil); r.status != 200 {
		t.Fatalf("clear: %d %s", r.status, r.body)
	}
	if r := p.call("POST", book, admin, nimbus.Contact{ExternalID: "before"}); r.status != 200 {
		t.Fatalf("add before outage: %d %s", r.status, r.body)
	}

	addr := proxy.addr
	proxy.down()
	for _, c := range []struct{ method, path string }{{"POST", book}, {"GET", book}, {"POST", book + "/clear"}} {
		began := time.Now()
		r := p.call(c.method, c.path, admin, nimbus.Contact{ExternalID: "during"})
		if r.status != 503 || !strings.Contains(string(r.body), `"Unavailable"`) || r.header.Get("Retry-After") == "" {
			t.Errorf("%s %s during outage: %d %s (Retry-After %q)", c.method, c.path, r.status, r.body, r.header.Get("Retry-After"))
		}
		if took := time.Since(began); took > 30*time.Second {
			t.Errorf("%s %s took %v to report the outage", c.method, c.path, took)
		}
	}

	proxy.up(addr)
	r := p.call("GET", book, admin, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"before"`) || strings.Contains(string(r.body), `"during"`) {
		t.Errorf("after outage: %d %s", r.status, r.body)
	}
	if r := p.call("POST", book, admin, nimbus.Contact{ExternalID: "after"}); r.status != 200 {
		t.Errorf("add after outage: %d %s", r.status, r.body)
	}
}
