package servicebus

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// The emulator's documented connection string; its key is a placeholder, not a secret.
const emulatorConnection = "Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;"

type staticCredential struct{}

func (staticCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "t", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestOpen(t *testing.T) {
	cases := []struct {
		name   string
		cfg    Config
		target string // "": Open succeeds
	}{
		{"emulator", Config{ConnectionString: emulatorConnection}, ""},
		{"emulator with port", Config{ConnectionString: "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true"}, ""},
		{"key-based", Config{ConnectionString: "Endpoint=sb://example.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=c2VjcmV0"}, ""},
		{"connection string wins", Config{ConnectionString: emulatorConnection, Namespace: "not a namespace"}, ""},
		{"identity", Config{Namespace: "example.servicebus.windows.net", Credential: staticCredential{}}, ""},
		{"no endpoint", Config{ConnectionString: "SharedAccessKeyName=k;SharedAccessKey=v"}, "connectionString"},
		{"no key", Config{ConnectionString: "Endpoint=sb://example.servicebus.windows.net/"}, "connectionString"},
		{"garbage", Config{ConnectionString: "not a connection string"}, "connectionString"},
		{"emulator over https", Config{ConnectionString: "Endpoint=https://localhost;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true"}, "connectionString"},
		{"nothing", Config{}, "namespace"},
		{"namespace with scheme", Config{Namespace: "sb://example.servicebus.windows.net", Credential: staticCredential{}}, "namespace"},
		{"bare namespace name", Config{Namespace: "example", Credential: staticCredential{}}, "namespace"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Open(tc.cfg)
			if tc.target == "" {
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				if err := p.Close(t.Context()); err != nil {
					t.Fatalf("close: %v", err)
				}
				return
			}
			wantKind(t, err, nimbus.KindInvalid)
			if got := err.(*nimbus.Error).Target; got != tc.target {
				t.Fatalf("got target %q, want %q", got, tc.target)
			}
		})
	}
}

// TestEmulatorEndpointUnreachable drives the real SDK against a loopback listener that is
// not a broker: the publisher must dial the emulator endpoint of the connection string (plain
// AMQP, with its port) and report KindUnavailable within the caller's deadline.
func TestEmulatorEndpointUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	dialed := make(chan struct{}, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case dialed <- struct{}{}:
			default:
			}
			c.Close()
		}
	}()

	p, err := Open(Config{ConnectionString: "Endpoint=sb://" + ln.Addr().String() + ";SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true"})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer p.Close(context.Background())
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	start := time.Now()
	err = p.Queue("events").Send(ctx, nimbus.Message{ID: "m", SessionID: "s", Body: []byte("{}")})
	wantKind(t, err, nimbus.KindUnavailable)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("send took %v, want it bounded by the deadline", d)
	}
	select {
	case <-dialed:
	default:
		t.Error("the publisher never connected to the emulator endpoint")
	}
}
