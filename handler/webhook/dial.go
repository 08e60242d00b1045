package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Attempt.Err texts. They are fixed so that a stored attempt never carries a URL or an OS
// message quoting one.
const (
	errTextTimeout  = nimbus.AttemptTimedOut
	errTextRefused  = "connection refused"
	errTextReset    = "connection reset"
	errTextClosed   = "connection closed before a response"
	errTextLookup   = "host name lookup failed"
	errTextTLS      = "tls handshake failed"
	errTextCanceled = "canceled"
	errTextSecret   = "invalid signing secret"
	errTextRequest  = "invalid request"
	errTextOther    = "transport error"
)

var (
	errNotAllowed = errors.New("callback address not allowed by policy")
	errLookup     = errors.New("lookup callback host")
)

// dialContext is the Transport's dialer. It resolves the host itself, refuses the whole
// host when any of its addresses is not public, and then dials those very addresses: a
// second lookup by the OS could answer differently (DNS rebinding: public when checked,
// 127.0.0.1 when connecting), so no name ever reaches net.Dial.
func (c *Client) dialContext(ctx context.Context, network, hostport string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial: invalid port: %w", err)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		found, err := c.resolve(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errLookup, err)
		}
		if len(found) == 0 {
			return nil, errLookup
		}
		addrs = append(addrs, found...)
	}
	for i, a := range addrs {
		a = a.Unmap()
		// A host with one bad address is refused outright rather than filtered: no real
		// callback host mixes public and internal addresses, an attacker's does.
		if !c.policy.AllowInsecure && !publicAddr(a) {
			return nil, errNotAllowed
		}
		addrs[i] = a
	}
	var last error
	for _, a := range addrs {
		conn, err := c.dialAddr(ctx, network, netip.AddrPortFrom(a, uint16(port)))
		if err == nil {
			return conn, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// newDialer returns the function that connects to an already checked address. In
// production its Control hook checks the address once more, at the socket, so that any
// path that reaches it with an unchecked address still cannot connect.
func newDialer(p Policy, timeout time.Duration) func(context.Context, string, netip.AddrPort) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !p.AllowInsecure {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !publicAddr(ap.Addr()) {
				return errNotAllowed
			}
			return nil
		}
	}
	return func(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error) {
		return d.DialContext(ctx, network, addr.String())
	}
}

// transportError turns the error of http.Client.Do into a fixed Attempt.Err text. The
// error itself is never kept: *url.Error quotes the whole URL.
func transportError(ctx context.Context, err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, errNotAllowed):
		return ErrAddressNotAllowed
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return errTextTimeout
	case ctx.Err() != nil:
		return errTextCanceled
	case errors.As(err, &netErr) && netErr.Timeout():
		return errTextTimeout
	case errors.Is(err, errLookup):
		return errTextLookup
	case errors.Is(err, syscall.ECONNREFUSED):
		return errTextRefused
	case errors.Is(err, syscall.ECONNRESET):
		return errTextReset
	case isTLSError(err):
		return errTextTLS
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errTextClosed
	}
	return errTextOther
}

func isTLSError(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		alert    tls.AlertError
		hostname x509.HostnameError
		unknown  x509.UnknownAuthorityError
	)
	return errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &alert) ||
		errors.As(err, &hostname) || errors.As(err, &unknown)
}
