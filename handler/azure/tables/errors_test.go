package tables

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// responseError builds the *azcore.ResponseError the SDK returns for a service answer.
func responseError(status int, code, body string) error {
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:10002/devstoreaccount1/t()", nil)
	resp := &http.Response{
		Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode: status,
		Header:     http.Header{},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    req,
	}
	if code != "" {
		resp.Header.Set("x-ms-error-code", code)
	}
	return runtime.NewResponseError(resp)
}

func TestTranslate(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want nimbus.Kind
	}{
		{"entity not found", responseError(404, "ResourceNotFound", ""), nimbus.KindNotFound},
		{"table not found", responseError(404, "TableNotFound", ""), nimbus.KindNotFound},
		{"404 without code", responseError(404, "", ""), nimbus.KindNotFound},
		{"entity exists", responseError(409, "EntityAlreadyExists", ""), nimbus.KindConflict},
		{"ETag mismatch", responseError(412, "UpdateConditionNotSatisfied", ""), nimbus.KindConflict},
		{"412 without code", responseError(412, "", ""), nimbus.KindConflict},
		{"table being deleted", responseError(409, "TableBeingDeleted", ""), nimbus.KindUnavailable},
		{"bad request", responseError(400, "InvalidInput", `{"odata.error":{"code":"InvalidInput","message":{"value":"secret SDK text"}}}`), nimbus.KindInvalid},
		{"property too large", responseError(400, "PropertyValueTooLarge", ""), nimbus.KindInvalid},
		{"body too large", responseError(413, "RequestBodyTooLarge", ""), nimbus.KindInvalid},
		{"throttled", responseError(429, "", ""), nimbus.KindUnavailable},
		{"server error", responseError(500, "InternalError", ""), nimbus.KindUnavailable},
		{"server busy", responseError(503, "ServerBusy", ""), nimbus.KindUnavailable},
		{"gateway timeout", responseError(504, "", ""), nimbus.KindUnavailable},
		{"forbidden", responseError(403, "AuthorizationFailure", ""), nimbus.KindInternal},
		{"deadline", fmt.Errorf("send: %w", context.DeadlineExceeded), nimbus.KindUnavailable},
		{"canceled", context.Canceled, nimbus.KindUnavailable},
		{"connection refused", &url.Error{Op: "Get", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, nimbus.KindUnavailable},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), nimbus.KindUnavailable},
		{"DNS", &net.DNSError{Err: "no such host", Name: "account.table.core.windows.net", IsNotFound: true}, nimbus.KindUnavailable},
		{"truncated response", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), nimbus.KindUnavailable},
		{"anything else", errors.New("json: cannot unmarshal"), nimbus.KindInternal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := translate("get", c.err)
			e, ok := err.(*nimbus.Error)
			if !ok {
				t.Fatalf("got %T, want *nimbus.Error", err)
			}
			if e.Kind != c.want {
				t.Errorf("got kind %s, want %s", e.Kind, c.want)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("the cause is not in the wrapped chain: %v", err)
			}
			for _, sdk := range []string{"RESPONSE", "ERROR CODE", "127.0.0.1", "secret SDK text", "refused", "no such host", "get:"} {
				if strings.Contains(e.Message, sdk) {
					t.Errorf("message %q shows SDK or transport text %q", e.Message, sdk)
				}
			}
			if e.Message == "" {
				t.Error("empty message")
			}
		})
	}
	if err := translate("get", nil); err != nil {
		t.Errorf("translate(nil) = %v, want nil", err)
	}
}
