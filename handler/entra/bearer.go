package entra

import "strings"

// BearerToken extracts the token from an Authorization header value of the form
// "Bearer <token>". The scheme is matched case-insensitively (RFC 9110 section 11.1) and runs
// of spaces around the parts are tolerated, because some clients and proxies add them; any
// other shape is KindUnauthenticated.
func BearerToken(authorizationHeader string) (string, error) {
	fields := strings.Fields(authorizationHeader)
	switch {
	case len(fields) == 0:
		return "", unauthenticated("A bearer token is required: send Authorization: Bearer <access token>.", nil)
	case !strings.EqualFold(fields[0], "Bearer"):
		return "", unauthenticated("The Authorization header must use the Bearer scheme.", nil)
	case len(fields) == 1:
		return "", unauthenticated("A bearer token is required: send Authorization: Bearer <access token>.", nil)
	case len(fields) > 2:
		return "", unauthenticated("The Authorization header is malformed; send Authorization: Bearer <access token>.", nil)
	}
	return fields[1], nil
}
