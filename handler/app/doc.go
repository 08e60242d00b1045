// Package app holds the use cases of the connector, one file per area (directory, address
// books, …). Each use case takes the caller's identity, re-checks roles, the OU rule and
// licensing at call time through nimbus, and reaches storage only through nimbus interfaces.
//
// It must not import net/http, the Azure SDK or any adapter package; a test enforces it.
package app
