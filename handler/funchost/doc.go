// Package funchost speaks the Azure Functions custom-handler protocol ("payload mode"), exactly
// as the Functions host speaks it: the host POSTs {"Data": {...}, "Metadata": {...}} to
// /{FunctionName} and reads back {"Outputs": {...}, "Logs": [...], "ReturnValue": ...}.
//
// What lives here is the wire protocol only: decoding invocations (quoted metadata scalars,
// single- or double-encoded or base64 message bodies, timer info, HTTP requests rebuilt from
// the payload), encoding responses, and dispatching /{FunctionName} to a registered Func with
// the host's failure semantics (non-2xx fails the invocation, so a Service Bus message is
// abandoned and redelivered). No business logic lives here: the Funcs that map an invocation
// onto app use cases are written by the caller and registered with Host.Handle.
//
// The quirks handled here come from the host's source (the HTTP worker in
// Azure/azure-functions-host), its unit tests, and the captured payloads in the test fixtures
// of KarlGW/azfunc; the golden payloads under testdata/ are modelled on them.
package funchost
