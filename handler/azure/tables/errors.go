package tables

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// The messages below are shared with the embedded store's, so that callers see the same
// sentences whichever backend runs.
const (
	msgMissing   = "the entity does not exist"
	msgExists    = "the entity already exists"
	msgChanged   = "the entity was changed since it was read (ETag mismatch)"
	msgNoTable   = "the table does not exist"
	msgRejected  = "the storage service rejected the request as invalid"
	msgInternal  = "the storage service failed"
	msgMalformed = "the stored entity is not in the expected format"
)

// translate maps an SDK or transport error of operation op to a *nimbus.Error. The SDK error
// is kept in the wrapped chain only; no SDK text reaches Message.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fromStatus(op, re.StatusCode, re.ErrorCode, err)
	}
	if transient(err) {
		return nimbus.Unavailable(op, err)
	}
	return internal(op, err)
}

// fromStatus classifies a service response by error code first (it is the precise one) and
// HTTP status second. It also classifies the inner responses of failed batches.
func fromStatus(op string, status int, code string, err error) *nimbus.Error {
	wrapped := fmt.Errorf("%s: %w", op, err)
	switch code {
	case "ResourceNotFound", "EntityNotFound":
		return &nimbus.Error{Kind: nimbus.KindNotFound, Message: msgMissing, Err: wrapped}
	case "TableNotFound":
		return &nimbus.Error{Kind: nimbus.KindNotFound, Message: msgNoTable, Err: wrapped}
	case "EntityAlreadyExists":
		return &nimbus.Error{Kind: nimbus.KindConflict, Message: msgExists, Err: wrapped}
	case "UpdateConditionNotSatisfied":
		return &nimbus.Error{Kind: nimbus.KindConflict, Message: msgChanged, Err: wrapped}
	case "InvalidInput", "OutOfRangeInput", "PropertyValueTooLarge", "EntityTooLarge", "RequestBodyTooLarge":
		return &nimbus.Error{Kind: nimbus.KindInvalid, Message: msgRejected, Err: wrapped}
	case "TableBeingDeleted", "ServerBusy", "OperationTimedOut", "InternalError":
		return nimbus.Unavailable(op, err)
	}
	switch status {
	case http.StatusNotFound:
		return &nimbus.Error{Kind: nimbus.KindNotFound, Message: msgMissing, Err: wrapped}
	case http.StatusConflict:
		return &nimbus.Error{Kind: nimbus.KindConflict, Message: msgExists, Err: wrapped}
	case http.StatusPreconditionFailed:
		return &nimbus.Error{Kind: nimbus.KindConflict, Message: msgChanged, Err: wrapped}
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return &nimbus.Error{Kind: nimbus.KindInvalid, Message: msgRejected, Err: wrapped}
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return nimbus.Unavailable(op, err)
	}
	// 401/403 and the like: the deployment's credentials or network rules are wrong, which
	// retrying will not fix.
	return internal(op, err)
}

// transient reports errors of reaching the service: timeouts, cancellation, refused or reset
// connections, DNS failures. Every error of the HTTP client is a *url.Error, a net.Error.
func transient(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) ||
		errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

func internal(op string, err error) *nimbus.Error {
	return &nimbus.Error{Kind: nimbus.KindInternal, Message: msgInternal, Err: fmt.Errorf("%s: %w", op, err)}
}

func malformed(op string, err error) *nimbus.Error {
	return &nimbus.Error{Kind: nimbus.KindInternal, Message: msgMalformed, Err: fmt.Errorf("%s: %w", op, err)}
}
