package funchost

import "encoding/json"

// Response is what a Func returns for a successful invocation; the host reads it as
// {"Outputs": {...}, "Logs": [...], "ReturnValue": ...}.
//
// Outputs are matched to output binding names from function.json; keys with no binding are
// ignored by the host. Logs become Information-level traces of the invocation (Application
// Insights), but only on success: the host drops the body of a failed invocation. ReturnValue
// feeds a "$return" binding.
//
// Host quirk: for every non-HTTP output and for ReturnValue, the host tries
// Convert.FromBase64String on string values, so a string that happens to be valid base64
// ("test", "abcd") is delivered as its decoded bytes. We do not use output bindings for data
// (the app calls the Azure SDKs itself), so nothing here works around it; if one is ever
// added, pass bytes as base64 deliberately or use dataType binary.
type Response struct {
	Outputs     map[string]any
	Logs        []string
	ReturnValue any
}

// MarshalJSON writes the wire form. Empty Outputs and Logs are written as {} and [] so the
// payload has one stable shape.
func (r Response) MarshalJSON() ([]byte, error) {
	wire := struct {
		Outputs     map[string]any `json:"Outputs"`
		Logs        []string       `json:"Logs"`
		ReturnValue any            `json:"ReturnValue"`
	}{r.Outputs, r.Logs, r.ReturnValue}
	if wire.Outputs == nil {
		wire.Outputs = map[string]any{}
	}
	if wire.Logs == nil {
		wire.Logs = []string{}
	}
	return json.Marshal(wire)
}

// HTTPOutput is the value of an "http" output binding. The host deserializes it
// case-insensitively into StatusCode, Headers and Body, sets the response Content-Type only
// from a content-type header (so it must always be present), and writes a string Body raw.
//
// Body travels as a JSON string, so it must be UTF-8 text: bytes that are not valid UTF-8 are
// replaced by encoding/json. Binary responses need forwarding mode (enableForwardingHttpRequest).
type HTTPOutput struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}
