package embedded

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// A write refused for lack of room passes once an operator frees space: callers must see
// KindUnavailable with a Retry-After (503), never an internal error (500).
func TestStoreErrorMapsFullDiskToUnavailable(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want nimbus.Kind
	}{
		{"ENOSPC", &os.PathError{Op: "write", Path: "nimbus.db", Err: syscall.ENOSPC}, nimbus.KindUnavailable},
		{"EDQUOT", fmt.Errorf("commit: %w", &os.PathError{Op: "write", Path: "nimbus.db", Err: syscall.EDQUOT}), nimbus.KindUnavailable},
		{"EFBIG", &os.PathError{Op: "truncate", Path: "nimbus.db", Err: syscall.EFBIG}, nimbus.KindUnavailable},
		// bbolt formats a failed resize with %s, dropping the chain.
		{"ResizeText", errors.New("file resize error: truncate nimbus.db: no space left on device"), nimbus.KindUnavailable},
		{"MaxSize", berrors.ErrMaxSizeReached, nimbus.KindUnavailable},
		{"Closed", berrors.ErrDatabaseNotOpen, nimbus.KindUnavailable},
		{"OtherIO", &os.PathError{Op: "write", Path: "nimbus.db", Err: syscall.EIO}, nimbus.KindInternal},
		{"Corrupt", io.ErrUnexpectedEOF, nimbus.KindInternal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := storeError("insert", c.err)
			if got := nimbus.KindOf(err); got != c.want {
				t.Fatalf("got %s, want %s (%v)", got, c.want, err)
			}
			var ne *nimbus.Error
			if c.want == nimbus.KindUnavailable && (!errors.As(err, &ne) || ne.RetryAfter <= 0) {
				t.Errorf("no Retry-After on %v", err)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("the cause is not kept in the chain: %v", err)
			}
		})
	}
}
