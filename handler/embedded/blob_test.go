package embedded

import (
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
	"github.com/nimbusflow/connector/handler/storetest"
)

func TestBlobConformance(t *testing.T) {
	storetest.RunBlobs(t, func(t *testing.T) nimbus.Blobs {
		bs, err := OpenBlobs(t.TempDir())
		if err != nil {
			t.Fatalf("open blobs: %v", err)
		}
		return bs
	})
}
