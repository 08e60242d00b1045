package webhook

import "net/netip"

// metadataAddrs are cloud instance metadata and host agent endpoints. Most sit inside a
// blocked range already; they are listed by name so that the intent survives an edit of
// the ranges, and because Azure's WireServer is a public address reachable only from
// inside Azure, where this connector runs.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, Azure IMDS, GCP, OCI
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("168.63.129.16"),   // Azure WireServer
}

// blockedPrefixes are ranges a callback must never reach, on top of what
// netip.Addr.IsGlobalUnicast and IsPrivate already exclude (loopback, link-local,
// multicast, unspecified, broadcast, 10/8, 172.16/12, 192.168/16, fc00::/7). They are
// internal, shared, reserved, documentation or benchmark space: no Power Platform callback
// lives there, and inside a cloud network several of them route to infrastructure.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT shared space (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, with 255.255.255.255
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated), with :: and ::1
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, with Teredo
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("3fff::/20"),       // documentation (RFC 9637)
	netip.MustParsePrefix("5f00::/16"),       // SRv6 SIDs
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// nat64 is the well-known NAT64 prefix: its addresses reach the embedded IPv4 address, so
// that one is what gets checked.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// publicAddr reports whether a callback may connect to a. IPv4-mapped and NAT64 forms are
// judged by the IPv4 address they carry, so "::ffff:127.0.0.1" is loopback. Zoned
// addresses are refused: a zone only makes sense on a link-local address.
func publicAddr(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		return publicAddr(netip.AddrFrom4([4]byte(b[12:])))
	}
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, m := range metadataAddrs {
		if a == m {
			return false
		}
	}
	for _, p := range blockedPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
