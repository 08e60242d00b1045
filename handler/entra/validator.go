package entra

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nimbusflow/connector/handler/nimbus"
)

const (
	// ClockSkew is how far exp and nbf may be off from our clock (SPEC 2.1): Entra's clock and
	// ours drift, and a token minted a second "in the future" must not fail.
	ClockSkew = 60 * time.Second

	// MaxTokenLength bounds the raw token before any parsing, so unauthenticated callers cannot
	// make us decode arbitrarily large input. Entra access tokens stay far below it.
	MaxTokenLength = 32 << 10

	// signingAlgorithm is the only accepted JWS algorithm. Entra signs access tokens with RS256;
	// pinning it defeats "alg": "none" and the HS256 confusion where a public RSA key is used
	// as an HMAC secret.
	signingAlgorithm = "RS256"

	issuerV1Prefix = "https://sts.windows.net/"
	issuerV2Prefix = "https://login.microsoftonline.com/"
)

// Claims is the identity a validated token carries.
type Claims struct {
	TenantID string // tid
	// UPN is upn, else preferred_username, else unique_name, exactly as the token has it;
	// callers compare it case-insensitively. Empty for app tokens.
	UPN      string
	ObjectID string   // oid
	AppID    string   // appid (v1 tokens) or azp (v2 tokens): the client application
	Roles    []string // app roles such as "Nimbus.Core" and "Nimbus.Admin"
	// IsApp is true when the token has no user name: an app-only token, identified by AppID.
	IsApp  bool
	Issuer string
}

// Config is what a Validator accepts.
type Config struct {
	// Audiences lists the accepted aud values; a token is accepted when any of its audiences is
	// listed. With no audiences every token is rejected.
	Audiences []string
	// TenantKnown reports whether the token's tenant is a tenant of the directory. Its error
	// (for example storage being down) is returned as it is, not turned into a 401. Nil rejects
	// every token.
	TenantKnown func(ctx context.Context, tenantID string) (bool, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// KeySet supplies the public keys that may sign accepted tokens. Implementations are safe for
// concurrent use.
type KeySet interface {
	// Key returns the RSA public key with key id kid. When no usable key has that id it returns
	// an error of KindUnauthenticated; when keys cannot be fetched at all, KindUnavailable.
	Key(ctx context.Context, kid string) (*rsa.PublicKey, error)
}

// Validator checks access tokens. It is safe for concurrent use.
type Validator struct {
	cfg      Config
	keys     KeySet
	verified *verifiedTokens
}

// NewValidator returns a Validator that accepts tokens signed by keys and matching cfg.
func NewValidator(cfg Config, keys KeySet) *Validator {
	cfg.Audiences = slices.Clone(cfg.Audiences)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Validator{cfg: cfg, keys: keys, verified: newVerifiedTokens()}
}

// tokenClaims is the JSON shape of the claims we read from an Entra access token (v1 and v2).
type tokenClaims struct {
	jwt.RegisteredClaims
	TenantID          string   `json:"tid"`
	ObjectID          string   `json:"oid"`
	UPN               string   `json:"upn"`
	PreferredUsername string   `json:"preferred_username"`
	UniqueName        string   `json:"unique_name"`
	AppID             string   `json:"appid"`
	AuthorizedParty   string   `json:"azp"`
	Roles             []string `json:"roles"`
}

// Validate checks rawToken (without the "Bearer " prefix) and returns its identity. Every
// problem with the token is KindUnauthenticated with a message that says what is wrong; the
// signature is checked before any claim, so a forged token learns nothing about our settings.
func (v *Validator) Validate(ctx context.Context, rawToken string) (Claims, error) {
	if rawToken == "" {
		return Claims{}, unauthenticated("A bearer token is required: send Authorization: Bearer <access token>.", nil)
	}
	if len(rawToken) > MaxTokenLength {
		return Claims{}, unauthenticated("The token is malformed.", fmt.Errorf("token is longer than %d bytes", MaxTokenLength))
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{signingAlgorithm}),
		jwt.WithLeeway(ClockSkew),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(v.cfg.Now),
	}
	if len(v.cfg.Audiences) > 0 {
		opts = append(opts, jwt.WithAudience(v.cfg.Audiences...))
	}
	tc, remember, err := v.verify(ctx, rawToken, opts)
	if err != nil {
		return Claims{}, err
	}
	if len(v.cfg.Audiences) == 0 {
		return Claims{}, unauthenticated("The token's audience is not accepted.", errors.New("no audiences are configured"))
	}
	if err := v.checkIssuer(ctx, tc.Issuer, tc.TenantID); err != nil {
		return Claims{}, err
	}
	c, err := identity(tc)
	if err == nil && remember != nil {
		remember() // only a token that passed every check is remembered
	}
	return c, err
}

// verify checks the token's signature and its time and audience claims with opts. A token
// whose signature was verified before (verifiedTokens) is not RSA-verified again, provided
// its kid still resolves to the same key; its claims are checked with opts at every use.
// After a full verification, remember stores the token; the caller calls it once the token
// passed the remaining checks too.
func (v *Validator) verify(ctx context.Context, rawToken string, opts []jwt.ParserOption) (tc tokenClaims, remember func(), err error) {
	sum := tokenDigest(rawToken)
	if hit, ok := v.verified.get(sum, v.cfg.Now()); ok {
		key, err := v.key(ctx, hit.kid)
		if err == nil && key.Equal(hit.key) {
			tc := hit.claims
			if err := jwt.NewValidator(opts...).Validate(&tc); err != nil {
				return tokenClaims{}, nil, parseError(err, &jwt.Token{Method: jwt.SigningMethodRS256}, &tc)
			}
			return tc, nil, nil
		}
		v.verified.drop(sum) // the key was rotated out: verify again, against the new set
	}
	var used verifiedToken
	// A parser per call: jwt.Parser does not document that it is safe for concurrent use.
	tok, err := jwt.NewParser(opts...).ParseWithClaims(rawToken, &tc, v.keyfunc(ctx, &used))
	if err != nil {
		return tokenClaims{}, nil, parseError(err, tok, &tc)
	}
	used.claims = tc
	return tc, func() { v.verified.put(sum, used, v.cfg.Now()) }, nil
}

// keyfunc looks the signing key up by the token's kid and notes it in used. jwt has already
// checked that alg is RS256 when this runs.
func (v *Validator) keyfunc(ctx context.Context, used *verifiedToken) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, err := v.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		used.kid, used.key = kid, key
		return key, nil
	}
}

// key returns the key set's key of id kid.
func (v *Validator) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if kid == "" {
		return nil, unauthenticated("The token has no key id.", nil)
	}
	if v.keys == nil {
		return nil, unauthenticated("The token's signing key is not recognised.", errors.New("no key set is configured"))
	}
	return v.keys.Key(ctx, kid)
}

// parseError turns a jwt parse or validation error into our vocabulary. tok and tc hold what
// was decoded before the failure. Errors from the key set are already *nimbus.Error (possibly
// KindUnavailable) and pass through.
func parseError(err error, tok *jwt.Token, tc *tokenClaims) error {
	var ne *nimbus.Error
	if errors.As(err, &ne) {
		return ne
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthenticated("The token is malformed.", err)
	case tok == nil || tok.Method == nil || tok.Method.Alg() != signingAlgorithm:
		// alg is missing, unknown, "none", HS256, …: refused before any key is looked at.
		return unauthenticated("The token's signing algorithm is not accepted.", err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return unauthenticated("The token's signature is invalid.", err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthenticated("The token has expired.", err)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauthenticated("The token is not valid yet.", err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && tc.ExpiresAt == nil:
		return unauthenticated("The token has no expiry.", err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return unauthenticated("The token's audience is not accepted.", err)
	default:
		return unauthenticated("The token's claims are invalid.", err)
	}
}

// checkIssuer accepts only the two Entra issuer forms for the token's own tenant, and only
// when that tenant is one of ours: a token from another Entra tenant is signed by the same
// Microsoft keys, so the signature alone proves nothing about who may call us.
func (v *Validator) checkIssuer(ctx context.Context, iss, tid string) error {
	if tid == "" {
		return unauthenticated("The token's issuer is not accepted.", errors.New("token has no tid claim"))
	}
	if iss != issuerV1Prefix+tid+"/" && iss != issuerV2Prefix+tid+"/v2.0" {
		return unauthenticated("The token's issuer is not accepted.", fmt.Errorf("issuer %q is not an Entra issuer for tenant %q", iss, tid))
	}
	if v.cfg.TenantKnown == nil {
		return unauthenticated("The token's tenant is not known to Nimbus.", errors.New("no tenant lookup is configured"))
	}
	known, err := v.cfg.TenantKnown(ctx, tid)
	if err != nil {
		var ne *nimbus.Error
		if errors.As(err, &ne) {
			return err
		}
		// Not in the vocabulary yet: keep it an internal error rather than a 401, so a storage
		// outage never looks like a bad token.
		return &nimbus.Error{Kind: nimbus.KindInternal, Err: fmt.Errorf("check token tenant: %w", err)}
	}
	if !known {
		return unauthenticated("The token's tenant is not known to Nimbus.", fmt.Errorf("tenant %q is not in the directory", tid))
	}
	return nil
}

// identity builds Claims from a validated token. A user token must name its user; a token
// without a user name is an app-only token and must name its application instead.
func identity(tc tokenClaims) (Claims, error) {
	c := Claims{
		TenantID: tc.TenantID,
		UPN:      firstNonEmpty(tc.UPN, tc.PreferredUsername, tc.UniqueName),
		ObjectID: tc.ObjectID,
		AppID:    firstNonEmpty(tc.AppID, tc.AuthorizedParty),
		Roles:    tc.Roles,
		Issuer:   tc.Issuer,
	}
	if c.UPN == "" {
		if c.AppID == "" {
			return Claims{}, unauthenticated("The token names neither a user nor an application.", nil)
		}
		c.IsApp = true
	}
	return c, nil
}

func firstNonEmpty(values ...string) string {
	for _, s := range values {
		if s != "" {
			return s
		}
	}
	return ""
}
