// Package entra validates Microsoft Entra ID access tokens and, for local development only,
// issues look-alike tokens of its own.
//
// It is the only package that validates tokens: everything else receives the Claims that
// Validator.Validate returns and never parses a JWT itself. Signatures are checked with the
// maintained golang-jwt library against keys from a KeySet; RemoteKeySet fetches them from the
// tenant's OpenID metadata (JWKS via MicahParks/jwkset), and DevIssuer holds a key generated at
// start. Both kinds of token go through the same Validate path, so the dev issuer cannot open a
// side door that real tokens do not also pass through.
//
// Every error returned is a *nimbus.Error: KindUnauthenticated for anything wrong with a token
// (with a short message that says what, and never the token itself), KindUnavailable when the
// signing keys cannot be fetched at all.
package entra
