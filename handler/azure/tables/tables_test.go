package tables

import (
	"os"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
	"github.com/nimbusflow/connector/handler/storetest"
)

// TestConformance runs the store conformance suite against Azurite (or any account) whose
// connection string is in NIMBUS_TEST_AZURITE. scripts/test.sh always sets it, so CI never
// skips this test; run scripts/azurite.sh to set it locally.
func TestConformance(t *testing.T) {
	conn := os.Getenv("NIMBUS_TEST_AZURITE")
	if conn == "" {
		t.Skip("NIMBUS_TEST_AZURITE is not set; start Azurite with: eval \"$(scripts/azurite.sh start /tmp/azurite)\"")
	}
	storetest.Run(t, func(t *testing.T) nimbus.Tables {
		s, err := Open(t.Context(), Config{ConnectionString: conn}, storetest.TableNames()...)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return s
	})
}

func TestIfMatch(t *testing.T) {
	issued := `W/"datetime'2026-11-26T16%3A47%3A47.0241234Z'"`
	cases := map[string]string{
		"":                 "*",
		issued:             issued,
		"not-an-etag":      string(noMatch),
		`"42"`:             string(noMatch), // an embedded store ETag
		`W/"foo"`:          string(noMatch),
		`W/"datetime'x"'"`: string(noMatch),
	}
	for in, want := range cases {
		if got := string(*ifMatch(in)); got != want {
			t.Errorf("ifMatch(%q) = %q, want %q", in, got, want)
		}
	}
}
