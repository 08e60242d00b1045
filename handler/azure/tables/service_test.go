package tables

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func TestExpandConnectionString(t *testing.T) {
	cases := map[string]string{
		"UseDevelopmentStorage=true":    devStorage,
		" usedevelopmentstorage=TRUE; ": devStorage,
		"UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://ipv4.fiddler": devStorage,
		"UseDevelopmentStorage=false":   "UseDevelopmentStorage=false",
		"AccountName=a;AccountKey=a2V5": "AccountName=a;AccountKey=a2V5",
	}
	for in, want := range cases {
		if got := expandConnectionString(in); got != want {
			t.Errorf("expandConnectionString(%q) = %q, want %q", in, got, want)
		}
	}
	// The expansion must be something the SDK accepts.
	if _, err := aztables.NewServiceClientFromConnectionString(devStorage, nil); err != nil {
		t.Errorf("the SDK rejects the development storage string: %v", err)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name   string
		cfg    Config
		target string
	}{
		{"empty", Config{}, "serviceURL"},
		{"malformed connection string", Config{ConnectionString: "not a connection string"}, "connectionString"},
		{"no key", Config{ConnectionString: "AccountName=a"}, "connectionString"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(t.Context(), c.cfg)
			var e *nimbus.Error
			if !errors.As(err, &e) || e.Kind != nimbus.KindInvalid || e.Target != c.target {
				t.Fatalf("got %v, want KindInvalid naming %q", err, c.target)
			}
		})
	}
}

// closedPortConfig returns a configuration pointing at a loopback port nobody listens on.
func closedPortConfig(t *testing.T) Config {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	conn := strings.Replace(devStorage, "127.0.0.1:10002", addr, 1)
	return Config{ConnectionString: conn}
}

// TestClosedPortIsUnavailable checks that an unreachable account fails fast and as
// KindUnavailable: the retry policy must not keep callers waiting for minutes.
func TestClosedPortIsUnavailable(t *testing.T) {
	const within = 15 * time.Second
	cfg := closedPortConfig(t)

	start := time.Now()
	_, err := Open(t.Context(), cfg, "closedport")
	wantUnavailable(t, "open", err, start, within)

	s, err := Open(t.Context(), cfg) // no tables to create: no request yet
	if err != nil {
		t.Fatalf("open without tables: %v", err)
	}
	tb := s.Table("closedport")
	ops := map[string]func() error{
		"get": func() error { _, err := tb.Get(t.Context(), "p", "r"); return err },
		"insert": func() error {
			_, err := tb.Insert(t.Context(), nimbus.Entity{PartitionKey: "p", RowKey: "r"})
			return err
		},
		"delete": func() error { return tb.Delete(t.Context(), "p", "r", "") },
		"list":   func() error { _, err := tb.List(t.Context(), "p", "", "", 10); return err },
		"batch": func() error {
			return tb.Batch(t.Context(), "p", []nimbus.BatchOp{{Kind: nimbus.BatchUpsert, RowKey: "r"}})
		},
	}
	for name, op := range ops {
		start := time.Now()
		wantUnavailable(t, name, op(), start, within)
	}
}

func wantUnavailable(t *testing.T, what string, err error, start time.Time, within time.Duration) {
	t.Helper()
	took := time.Since(start)
	e, ok := err.(*nimbus.Error)
	if !ok || e.Kind != nimbus.KindUnavailable {
		t.Errorf("%s: got %v, want KindUnavailable", what, err)
		return
	}
	if took > within {
		t.Errorf("%s: took %v, want under %v", what, took, within)
	}
	if strings.Contains(e.Message, "127.0.0.1") || strings.Contains(e.Message, "refused") {
		t.Errorf("%s: message %q shows transport text", what, e.Message)
	}
	t.Logf("%s: KindUnavailable after %v", what, took.Round(time.Millisecond))
}
