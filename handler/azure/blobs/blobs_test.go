package blobs

import (
	"os"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
	"github.com/nimbusflow/connector/handler/storetest"
)

// TestConformance runs the blob conformance suite against Azurite, whose connection string
// is in NIMBUS_TEST_AZURITE. scripts/test.sh always sets it, so CI never skips this test.
func TestConformance(t *testing.T) {
	conn := os.Getenv("NIMBUS_TEST_AZURITE")
	if conn == "" {
		t.Skip("NIMBUS_TEST_AZURITE is not set; start Azurite with: eval \"$(scripts/azurite.sh start /tmp/azurite)\"")
	}
	c, err := Open(t.Context(), Config{ConnectionString: conn}, "conformance")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	storetest.RunBlobs(t, func(t *testing.T) nimbus.Blobs { return c })
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	cs := "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;"
	_, err := Open(t.Context(), Config{ConnectionString: cs}, "x")
	if got := nimbus.KindOf(err); got != nimbus.KindUnavailable {
		t.Errorf("open an unreachable account: got kind %s (%v), want %s", got, err, nimbus.KindUnavailable)
	}
}

func TestOpenNeedsConfiguration(t *testing.T) {
	_, err := Open(t.Context(), Config{}, "x")
	if got := nimbus.KindOf(err); got != nimbus.KindInvalid {
		t.Errorf("open without settings: got kind %s (%v), want %s", got, err, nimbus.KindInvalid)
	}
}

func TestExpandDevelopmentStorage(t *testing.T) {
	if got := expandConnectionString(" UseDevelopmentStorage=true "); got != devStorage {
		t.Errorf("got %q, want the Azurite account", got)
	}
	if got := expandConnectionString("AccountName=a"); got != "AccountName=a" {
		t.Errorf("got %q, want it unchanged", got)
	}
}
