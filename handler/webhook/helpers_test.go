package webhook

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"
)

// connCounter is a loopback listener that counts the connections it accepts, to prove that
// a refused callback never connected.
type connCounter struct {
	ln   net.Listener
	mu   sync.Mutex
	seen []string // remote addresses, in accept order
}

func newConnCounter(t *testing.T) *connCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &connCounter{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.seen = append(c.seen, conn.RemoteAddr().String())
			c.mu.Unlock()
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

func (c *connCounter) port() string {
	return strconv.Itoa(c.ln.Addr().(*net.TCPAddr).Port)
}

// count returns how many connections arrived since the previous count. It connects once itself and waits
// until that connection is accepted: the accept queue is first in, first out, so every
// earlier connection has been counted by then.
func (c *connCounter) count(t *testing.T) int {
	t.Helper()
	probe, err := net.Dial("tcp", c.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	me := probe.LocalAddr().String()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for i, a := range c.seen {
			if a == me {
				c.seen = c.seen[i+1:] // the next count starts after this probe
				c.mu.Unlock()
				return i
			}
		}
		c.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	t.Fatal("probe connection was not accepted")
	return 0
}

// fakeDNS is an injected resolver: each host answers its list of answers in turn, the last
// one forever after. Unknown hosts fail like NXDOMAIN.
type fakeDNS struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	calls   map[string]int
}

func newFakeDNS(answers map[string][][]string) *fakeDNS {
	d := &fakeDNS{answers: map[string][][]netip.Addr{}, calls: map[string]int{}}
	for host, rounds := range answers {
		for _, round := range rounds {
			var addrs []netip.Addr
			for _, a := range round {
				addrs = append(addrs, netip.MustParseAddr(a))
			}
			d.answers[host] = append(d.answers[host], addrs)
		}
	}
	return d
}

func (d *fakeDNS) resolve(_ context.Context, host string) ([]netip.Addr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rounds, ok := d.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	n := d.calls[host]
	d.calls[host]++
	return rounds[min(n, len(rounds)-1)], nil
}

func (d *fakeDNS) callCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.calls {
		n += c
	}
	return n
}

// dialSpy replaces Client.dialAddr: it records every address the client decided to dial,
// passes loopback ones to the real dialer (with its production Control check) and fails
// all others, so a broken check can never reach beyond this machine.
type dialSpy struct {
	mu     sync.Mutex
	dialed []netip.AddrPort
	real   func(context.Context, string, netip.AddrPort) (net.Conn, error)
	// redirect, when set, is where a non-loopback address is really dialled (a test
	// server standing in for a public host).
	redirect map[netip.AddrPort]string
}

func spyOn(c *Client) *dialSpy {
	s := &dialSpy{real: c.dialAddr, redirect: map[netip.AddrPort]string{}}
	c.dialAddr = s.dial
	return s
}

func (s *dialSpy) dial(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error) {
	s.mu.Lock()
	s.dialed = append(s.dialed, addr)
	to, ok := s.redirect[addr]
	s.mu.Unlock()
	if ok {
		var d net.Dialer
		return d.DialContext(ctx, network, to)
	}
	if addr.Addr().Unmap().IsLoopback() {
		return s.real(ctx, network, addr)
	}
	return nil, &net.OpError{Op: "dial", Net: network, Err: errTestNoNetwork}
}

func (s *dialSpy) calls() []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.AddrPort(nil), s.dialed...)
}

var errTestNoNetwork = testError("test: non-loopback dial refused")

type testError string

func (e testError) Error() string { return string(e) }
