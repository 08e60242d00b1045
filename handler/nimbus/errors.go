package nimbus

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error for callers. Only httpapi turns kinds into HTTP statuses; the
// string values are the wire codes of the connector's error format.
type Kind string

const (
	KindInvalid         Kind = "InvalidArgument"
	KindUnauthenticated Kind = "Unauthenticated"
	KindForbidden       Kind = "Forbidden"
	KindNotFound        Kind = "NotFound"
	KindConflict        Kind = "Conflict"
	KindTooLarge        Kind = "TooLarge"
	KindUnsupported     Kind = "UnsupportedMediaType"
	KindThrottled       Kind = "Throttled"
	KindUnavailable     Kind = "Unavailable"
	KindInternal        Kind = "Internal"
)

// Sentinel errors, one per kind, for errors.Is checks:
//
//	if errors.Is(err, nimbus.ErrNotFound) { … }
//
// Any *Error of the same kind matches its sentinel.
var (
	ErrInvalid         = &Error{Kind: KindInvalid}
	ErrUnauthenticated = &Error{Kind: KindUnauthenticated}
	ErrForbidden       = &Error{Kind: KindForbidden}
	ErrNotFound        = &Error{Kind: KindNotFound}
	ErrConflict        = &Error{Kind: KindConflict}
	ErrTooLarge        = &Error{Kind: KindTooLarge}
	ErrThrottled       = &Error{Kind: KindThrottled}
	ErrUnavailable     = &Error{Kind: KindUnavailable}
	ErrInternal        = &Error{Kind: KindInternal}
)

// Error is the one error vocabulary of the system. Message is a full sentence meant for the
// API caller; Target names the offending field (for example "config.services[1]"); Err is the
// wrapped cause, which may carry SDK or OS text and is never shown to callers.
type Error struct {
	Kind       Kind
	Message    string
	Target     string
	RetryAfter time.Duration // for KindThrottled and KindUnavailable; zero means "caller decides"
	Err        error
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = string(e.Kind)
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error of the same kind, so that every error of a kind
// matches that kind's sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind
}

// KindOf returns the kind of the first *Error in err's chain, or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Invalid returns a KindInvalid error naming the field target.
func Invalid(target, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Target: target, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns a KindNotFound error with a user-facing message.
func NotFound(format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Message: fmt.Sprintf(format, args...)}
}

// Forbidden returns a KindForbidden error with a user-facing message.
func Forbidden(format string, args ...any) *Error {
	return &Error{Kind: KindForbidden, Message: fmt.Sprintf(format, args...)}
}

// Conflict returns a KindConflict error with a user-facing message.
func Conflict(format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Message: fmt.Sprintf(format, args...)}
}

// Unavailable wraps a storage or queue failure that is expected to pass.
func Unavailable(op string, err error) *Error {
	return &Error{Kind: KindUnavailable, Message: "The service is temporarily unavailable; try again later.", RetryAfter: 5 * time.Second, Err: fmt.Errorf("%s: %w", op, err)}
}
