package webhook

import (
	"net/netip"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"20.50.2.1", true},
		{"8.8.8.8", true},
		{"2603:1020::1", true},
		{"::ffff:20.50.2.1", true},
		{"64:ff9b::808:808", true}, // 8.8.8.8 through NAT64
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"10.0.0.5", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"169.254.0.1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"169.254.169.254", false},
		{"fd00:ec2::254", false},
		{"100.100.100.200", false},
		{"168.63.129.16", false},
		{"192.0.0.192", false},
		{"192.0.2.1", false},
		{"198.18.0.1", false},
		{"198.51.100.1", false},
		{"203.0.113.1", false},
		{"2001:db8::1", false},
		{"3fff::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::127.0.0.1", false},
		{"64:ff9b::7f00:1", false},    // 127.0.0.1 through NAT64
		{"64:ff9b::a9fe:a9fe", false}, // 169.254.169.254 through NAT64
		{"64:ff9b:1::1", false},
		{"2002:7f00:1::1", false}, // 6to4 of 127.0.0.1
		{"2001::1", false},        // Teredo
		{"fec0::1", false},
	}
	for _, tt := range tests {
		if got := publicAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("publicAddr(%s): got %v, want %v", tt.addr, got, tt.want)
		}
	}
	if publicAddr(netip.Addr{}) {
		t.Error("publicAddr(zero Addr): got true, want false")
	}
}
