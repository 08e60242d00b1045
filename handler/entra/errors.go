package entra

import "github.com/nimbusflow/connector/handler/nimbus"

// unauthenticated returns the error for a rejected token. message is what the caller sees and
// says what is wrong; cause is kept for logs and must never carry the token.
func unauthenticated(message string, cause error) *nimbus.Error {
	return &nimbus.Error{Kind: nimbus.KindUnauthenticated, Message: message, Err: cause}
}
