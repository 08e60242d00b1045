package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/nimbusflow/connector/handler/nimbus"
)

const (
	// MaxBody is the largest request body the connector API accepts (SPEC 3).
	MaxBody = 1 << 20
	// MaxDirectoryBody bounds a directory import, which carries a whole tenant (up to
	// nimbus.MaxUsers users) and so is allowed more than connector bodies.
	MaxDirectoryBody = 32 << 20
)

// decodeJSON reads a JSON body of at most limit bytes into v. It answers the way SPEC 3
// asks: 415 for a body that is not JSON, 413 for one that is too large, 400 naming the field
// for wrong types and malformed JSON. Unknown fields are ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	data, err := readJSONBody(w, r, limit)
	if err != nil {
		return err
	}
	return decodeValue(data, v)
}

// readJSONBody reads a JSON request body of at most limit bytes: 415 for another content
// type, 413 above the limit, 400 for an empty body. The bytes are not parsed yet.
func readJSONBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &nimbus.Error{Kind: nimbus.KindUnsupported, Message: fmt.Sprintf("The request body must be JSON (Content-Type: application/json), not %q.", ct)}
		}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	data, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &nimbus.Error{Kind: nimbus.KindTooLarge, Message: fmt.Sprintf("The request body exceeds %d bytes.", limit)}
		}
		return nil, nimbus.Invalid("", "The request body could not be read.")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nimbus.Invalid("", "A JSON request body is required.")
	}
	return data, nil
}

// decodeValue decodes data, which must hold exactly one JSON value, into v.
func decodeValue(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return nimbus.Invalid("", "The request body must hold exactly one JSON value.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nimbus.Invalid("", "The request body must hold exactly one JSON value.")
	}
	return nil
}

// jsonError turns a decoding error into a 400 that names the field when it can.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return nimbus.Invalid("", "The request body must be a JSON %s, not %s.", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
		}
		return nimbus.Invalid(typeErr.Field, "%s must be a JSON %s, not %s.", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return nimbus.Invalid("", "The request body is not valid JSON (at byte %d).", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nimbus.Invalid("", "The request body is not valid JSON (it ends too early).")
	}
	return nimbus.Invalid("", "The request body is not valid JSON.")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	}
	return goKind
}
