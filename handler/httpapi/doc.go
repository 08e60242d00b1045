// Package httpapi is the REST surface of the connector: routes, the bearer-token middleware,
// JSON decoding with limits, and the one table from error kind to HTTP status.
//
// Handlers decode and validate input, call one app use case, and encode its result. No
// business rule lives here, and nothing here talks to storage directly.
package httpapi
