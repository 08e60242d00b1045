package tables

import (
	"errors"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Batch response bodies as Azure and Azurite send them when an operation fails: 202 Accepted
// around the failed operation's response.
var (
	azureConflict = strings.ReplaceAll(`--batchresponse_1
Content-Type: multipart/mixed; boundary=changesetresponse_2

--changesetresponse_2
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 409 Conflict
Content-ID: 2
X-Content-Type-Options: nosniff
Cache-Control: no-cache
DataServiceVersion: 3.0;
Content-Type: application/json;odata=minimalmetadata;streaming=true;charset=utf-8

{"odata.error":{"code":"EntityAlreadyExists","message":{"lang":"en-US","value":"1:The specified entity already exists.\nRequestId:7f4\nTime:2026-01-01T00:00:00.0000000Z"}}}
--changesetresponse_2--
--batchresponse_1--
`, "\n", "\r\n")

	azuriteNotFound = "--batchresponse_a\r\nContent-Type: multipart/mixed; boundary=changesetresponse_b\r\n\r\n" +
		"--changesetresponse_b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 404 Not Found\r\nContent-ID: 1\r\nDataServiceVersion: 3.0;\r\n" +
		"Content-Type: application/json;odata=minimalmetadata;charset=utf-8\r\n\r\n" +
		`{"odata.error":{"code":"ResourceNotFound","message":{"lang":"en-US","value":"12:The specified resource does not exist.\nRequestId:a58\nTime:2026-01-01T00:00:00.000Z"}}}` +
		"\r\n--changesetresponse_b--\r\n--batchresponse_a--\r\n"

	stale = strings.Replace(strings.Replace(azureConflict, "409 Conflict", "412 Precondition Failed", 1),
		`"code":"EntityAlreadyExists","message":{"lang":"en-US","value":"1:`, `"code":"UpdateConditionNotSatisfied","message":{"lang":"en-US","value":"0:`, 1)
)

func TestParseBatchFailure(t *testing.T) {
	cases := []struct {
		name string
		body string
		want batchFailure
		ok   bool
	}{
		{"Azure conflict", azureConflict, batchFailure{409, "EntityAlreadyExists", 1}, true},
		{"Azurite not found", azuriteNotFound, batchFailure{404, "ResourceNotFound", 12}, true},
		{"stale ETag", stale, batchFailure{412, "UpdateConditionNotSatisfied", 0}, true},
		{"whole batch rejected", `{"odata.error":{"code":"InvalidInput","message":{"value":"bad"}}}`, batchFailure{0, "InvalidInput", -1}, true},
		{"no index", strings.Replace(azureConflict, `"1:The`, `"The`, 1), batchFailure{409, "EntityAlreadyExists", -1}, true},
		{"success", "--batchresponse_1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n--batchresponse_1--\r\n", batchFailure{index: -1}, false},
		{"garbage", "hello", batchFailure{index: -1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := parseBatchFailure([]byte(c.body))
			if got != c.want || ok != c.ok {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

func TestBatchError(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		kind   nimbus.Kind
		target string
	}{
		{"conflict at 1", responseError(202, "", azureConflict), nimbus.KindConflict, "ops[1]"},
		{"stale ETag at 0", responseError(202, "", stale), nimbus.KindConflict, "ops[0]"},
		{"index out of range", responseError(202, "", azuriteNotFound), nimbus.KindNotFound, ""},
		{"whole batch rejected", responseError(400, "InvalidInput", ""), nimbus.KindInvalid, ""},
		{"unreadable 202", responseError(202, "", "hello"), nimbus.KindInternal, ""},
		{"transport", errors.New("boom"), nimbus.KindInternal, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := batchError(c.err, 3)
			e, ok := err.(*nimbus.Error)
			if !ok {
				t.Fatalf("got %T (%v), want *nimbus.Error", err, err)
			}
			if e.Kind != c.kind || e.Target != c.target {
				t.Errorf("got kind %s target %q, want %s %q", e.Kind, e.Target, c.kind, c.target)
			}
			if c.target != "" && !strings.Contains(e.Message, "operation "+c.target[4:5]) {
				t.Errorf("message %q does not name the operation", e.Message)
			}
			if strings.Contains(e.Message, "specified") || strings.Contains(e.Message, "RESPONSE") {
				t.Errorf("message %q shows SDK text", e.Message)
			}
		})
	}
	if err := batchError(nil, 1); err != nil {
		t.Errorf("batchError(nil) = %v", err)
	}
}
