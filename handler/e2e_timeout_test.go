package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// A client that sends its headers and then trickles the body, one byte at a time well within
// any per-read deadline, must be cut off once the request's read timeout has passed. So must
// one that never finishes its headers. Both are answered or closed by the server; the test
// only waits for the server to end the connection.
func TestSlowClientsAreCutOff(t *testing.T) {
	p := start(t, map[string]string{
		"NIMBUS_DATA_DIR":                 t.TempDir(),
		"NIMBUS_HTTP_READ_HEADER_TIMEOUT": "500ms",
		"NIMBUS_HTTP_READ_TIMEOUT":        "1s",
		"NIMBUS_HTTP_IDLE_TIMEOUT":        "1s",
	})
	d := p.demo()
	tok := p.token(d.TenantID, d.Users.TenantAdmin)
	addr := strings.TrimPrefix(p.base, "http://")
	path := "/v2/AddressBooks/" + d.AddressBooks[0].ID + "/contacts"

	cases := []struct {
		name    string
		head    string // sent at once
		trickle bool   // then one byte every 100 ms
	}{
		{"SlowBody", "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok +
			"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", true},
		{"SlowHeaders", "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\n", true},
		{"IdleKeepAlive", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			began := time.Now()
			if _, err := io.WriteString(conn, c.head); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			defer close(stop)
			if c.trickle {
				go func() {
					tick := time.NewTicker(100 * time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							if _, err := conn.Write([]byte("x")); err != nil {
								return
							}
						}
					}
				}()
			}
			// The server must end the connection well before this deadline; a server that
			// keeps it open makes the read below time out instead.
			const limit = 10 * time.Second
			_ = conn.SetReadDeadline(time.Now().Add(limit))
			_, err = io.Copy(io.Discard, bufio.NewReader(conn))
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server still held the connection open after %s", limit)
			}
			t.Logf("connection ended after %s (%v)", time.Since(began).Round(time.Millisecond), errOrEOF(err))
		})
	}
}

func errOrEOF(err error) string {
	if err == nil {
		return "EOF"
	}
	return fmt.Sprint(err)
}
