package blobs

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// translate turns an SDK error into a *nimbus.Error of the matching kind, wrapping the
// original with the operation for the logs. nil stays nil.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	wrapped := fmt.Errorf("%s: %w", op, err)
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.StatusCode == http.StatusNotFound:
			return &nimbus.Error{Kind: nimbus.KindNotFound, Message: "The blob was not found.", Err: wrapped}
		case re.StatusCode == http.StatusConflict || re.StatusCode == http.StatusPreconditionFailed:
			return &nimbus.Error{Kind: nimbus.KindConflict, Err: wrapped}
		case re.StatusCode == http.StatusBadRequest:
			return &nimbus.Error{Kind: nimbus.KindInvalid, Target: "name", Message: "The blob request was refused as invalid.", Err: wrapped}
		case re.StatusCode == http.StatusRequestEntityTooLarge:
			return &nimbus.Error{Kind: nimbus.KindTooLarge, Err: wrapped}
		case re.StatusCode == http.StatusTooManyRequests || re.StatusCode >= 500:
			return &nimbus.Error{Kind: nimbus.KindUnavailable, Err: wrapped}
		}
		return &nimbus.Error{Kind: nimbus.KindInternal, Err: wrapped}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &nimbus.Error{Kind: nimbus.KindUnavailable, Err: wrapped}
	}
	// Transport failures: refused connections, DNS, resets.
	return &nimbus.Error{Kind: nimbus.KindUnavailable, Err: wrapped}
}
