package entra

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/nimbusflow/connector/handler/nimbus"
)

const (
	// devKeyBits is the size of the dev signing key; 2048 is what Entra uses.
	devKeyBits = 2048
	// MaxDevTokenTTL bounds the lifetime of a dev token; Entra's access tokens live 60–90 min.
	MaxDevTokenTTL = 24 * time.Hour
)

// devObjectNamespace derives stable object ids (uuid v5) for dev users and apps, so the same
// tenant and name always get the same oid across restarts.
var devObjectNamespace = uuid.MustParse("4f1c2b7e-9d3a-5e8f-a6b1-7c2d9e0f3a45")

// azureMarkers are environment variables the Azure platform sets in App Service and every
// Functions plan (WEBSITE_SITE_NAME, WEBSITE_INSTANCE_ID) and in Container Apps
// (CONTAINER_APP_NAME), and that local tools do not set. Generic names are left out on
// purpose: CONTAINER_NAME is set by many container runtimes (and on build machines), and the
// local Functions host may set WEBSITE_HOSTNAME.
var azureMarkers = []string{"WEBSITE_SITE_NAME", "WEBSITE_INSTANCE_ID", "CONTAINER_APP_NAME"}

// DevAuthAllowed returns an error when the process runs in Azure, where dev auth must never
// be on: anyone could mint themselves a token (SPEC 2.1).
func DevAuthAllowed(getenv func(string) string) error {
	for _, name := range azureMarkers {
		if getenv(name) != "" {
			return &nimbus.Error{Kind: nimbus.KindInvalid, Target: "devAuth",
				Message: fmt.Sprintf("dev auth cannot be enabled when running in Azure (%s is set)", name)}
		}
	}
	return nil
}

// DevIssuer mints tokens shaped like Entra v2 access tokens, signed with an RSA key generated
// at start. It exists for local runs only; its tokens are accepted by a Validator using
// KeySet(), through the same checks as real tokens. It is safe for concurrent use.
type DevIssuer struct {
	audience string
	key      *rsa.PrivateKey
	kid      string
	jwks     []byte
	keys     *staticKeySet
	now      func() time.Time
}

// NewDevIssuer generates a signing key. Tokens carry audience as aud.
func NewDevIssuer(audience string) (*DevIssuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, devKeyBits)
	if err != nil {
		return nil, &nimbus.Error{Kind: nimbus.KindInternal, Err: fmt.Errorf("generate dev signing key: %w", err)}
	}
	return NewDevIssuerWithKey(audience, key)
}

// NewDevIssuerWithKey uses key, so that a key kept in the local data directory keeps dev
// tokens valid across restarts (and start-up skips the costly key generation). The kid is
// derived from the public key, so it is stable too.
func NewDevIssuerWithKey(audience string, key *rsa.PrivateKey) (*DevIssuer, error) {
	if audience == "" {
		return nil, nimbus.Invalid("audience", "The dev token audience is required.")
	}
	if key == nil || key.N.BitLen() < devKeyBits {
		return nil, nimbus.Invalid("key", "The dev signing key must be RSA with at least %d bits.", devKeyBits)
	}
	sum := sha256.Sum256(key.N.Bytes())
	kid := base64.RawURLEncoding.EncodeToString(sum[:16])
	jwk, err := jwkset.NewJWKFromKey(&key.PublicKey, jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.AlgRS256, USE: jwkset.UseSig},
	})
	if err != nil {
		return nil, &nimbus.Error{Kind: nimbus.KindInternal, Err: fmt.Errorf("build dev jwk: %w", err)}
	}
	jwks, err := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk.Marshal()}})
	if err != nil {
		return nil, &nimbus.Error{Kind: nimbus.KindInternal, Err: fmt.Errorf("encode dev jwks: %w", err)}
	}
	keys, err := newStaticKeySet(jwks)
	if err != nil {
		return nil, &nimbus.Error{Kind: nimbus.KindInternal, Err: fmt.Errorf("load dev jwks: %w", err)}
	}
	return &DevIssuer{audience: audience, key: key, kid: kid, jwks: jwks, keys: keys, now: time.Now}, nil
}

// KeySet returns the in-memory key set holding the dev public key.
func (d *DevIssuer) KeySet() KeySet { return d.keys }

// JWKS returns the JSON Web Key Set document with the dev public key.
func (d *DevIssuer) JWKS() []byte { return append([]byte(nil), d.jwks...) }

// Metadata returns an OpenID configuration document for the dev issuer served at baseURL.
// Like Entra's multi-tenant document, its issuer is a template with "{tenantid}".
func (d *DevIssuer) Metadata(baseURL string) []byte {
	base := strings.TrimRight(baseURL, "/")
	doc := struct {
		Issuer        string   `json:"issuer"`
		JWKSURI       string   `json:"jwks_uri"`
		TokenEndpoint string   `json:"token_endpoint"`
		SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
	}{
		Issuer:        issuerV2Prefix + "{tenantid}/v2.0",
		JWKSURI:       base + "/dev/keys",
		TokenEndpoint: base + "/dev/token",
		SigningAlgs:   []string{signingAlgorithm},
	}
	b, _ := json.Marshal(doc) // cannot fail: strings only
	return b
}

// MintUser returns a user token for upn in tenantID. An empty objectID gets a stable one
// derived from the tenant and the UPN.
func (d *DevIssuer) MintUser(tenantID, upn, objectID string, ttl time.Duration) (string, error) {
	if upn == "" {
		return "", nimbus.Invalid("upn", "upn is required.")
	}
	if objectID == "" {
		objectID = devObjectID("user", tenantID, strings.ToLower(upn))
	}
	return d.mint(tenantID, ttl, jwt.MapClaims{
		"oid":                objectID,
		"sub":                objectID,
		"upn":                upn,
		"preferred_username": upn,
		"idtyp":              "user",
	})
}

// MintApp returns an app-only token for appID in tenantID carrying roles (for example
// "Nimbus.Core").
func (d *DevIssuer) MintApp(tenantID, appID string, roles []string, ttl time.Duration) (string, error) {
	if appID == "" {
		return "", nimbus.Invalid("appId", "appId is required.")
	}
	oid := devObjectID("app", tenantID, appID)
	claims := jwt.MapClaims{"oid": oid, "sub": oid, "appid": appID, "azp": appID, "idtyp": "app"}
	if len(roles) > 0 {
		claims["roles"] = append([]string(nil), roles...)
	}
	return d.mint(tenantID, ttl, claims)
}

// mint adds the claims every token has and signs. MapClaims rather than a struct keeps aud a
// plain string, as Entra writes it.
func (d *DevIssuer) mint(tenantID string, ttl time.Duration, claims jwt.MapClaims) (string, error) {
	if strings.TrimSpace(tenantID) == "" || strings.ContainsAny(tenantID, "/ ") {
		return "", nimbus.Invalid("tenantId", "tenantId is required and must not contain spaces or slashes.")
	}
	if ttl <= 0 || ttl > MaxDevTokenTTL {
		return "", nimbus.Invalid("ttl", "The token lifetime must be positive and at most %s.", MaxDevTokenTTL)
	}
	now := d.now()
	claims["iss"] = issuerV2Prefix + tenantID + "/v2.0"
	claims["aud"] = d.audience
	claims["tid"] = tenantID
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = now.Add(ttl).Unix()
	claims["ver"] = "2.0"
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = d.kid
	signed, err := tok.SignedString(d.key)
	if err != nil {
		return "", &nimbus.Error{Kind: nimbus.KindInternal, Err: fmt.Errorf("sign dev token: %w", err)}
	}
	return signed, nil
}

func devObjectID(kind, tenantID, name string) string {
	return uuid.NewSHA1(devObjectNamespace, []byte(kind+"\x00"+tenantID+"\x00"+name)).String()
}
