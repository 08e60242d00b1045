package entra

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"

	"github.com/MicahParks/jwkset"
)

// staticKeySet is a fixed, in-memory KeySet built from a JWKS document: the dev issuer's keys
// and test keys. It reads the document through the same jwkset code as RemoteKeySet, so a
// key the dev issuer publishes is parsed exactly like one fetched from Entra.
type staticKeySet struct {
	keys map[string]*rsa.PublicKey
}

// newStaticKeySet parses a JWKS document. Keys that cannot sign RS256 tokens are left out.
func newStaticKeySet(jwks []byte) (*staticKeySet, error) {
	var doc jwkset.JWKSMarshal
	if err := json.Unmarshal(jwks, &doc); err != nil {
		return nil, fmt.Errorf("decode jwks: %w", err)
	}
	list, err := doc.JWKSlice()
	if err != nil {
		return nil, fmt.Errorf("parse jwks: %w", err)
	}
	s := &staticKeySet{keys: make(map[string]*rsa.PublicKey, len(list))}
	for _, jwk := range list {
		if key, ok := rsaSigningKey(jwk); ok {
			s.keys[jwk.Marshal().KID] = key
		}
	}
	return s, nil
}

// Key implements KeySet.
func (s *staticKeySet) Key(_ context.Context, kid string) (*rsa.PublicKey, error) {
	key, ok := s.keys[kid]
	if !ok {
		return nil, unauthenticated("The token's signing key is not recognised.", fmt.Errorf("no key with id %q", kid))
	}
	return key, nil
}

// rsaSigningKey returns jwk's RSA public key when the key may verify RS256 signatures: an RSA
// key whose use, when stated, is "sig" and whose alg, when stated, is RS256. A key published
// for encryption or another algorithm must not verify our tokens.
func rsaSigningKey(jwk jwkset.JWK) (*rsa.PublicKey, bool) {
	m := jwk.Marshal()
	if m.USE != "" && m.USE != jwkset.UseSig {
		return nil, false
	}
	if m.ALG != "" && m.ALG != jwkset.AlgRS256 {
		return nil, false
	}
	switch key := jwk.Key().(type) {
	case *rsa.PublicKey:
		return key, true
	case *rsa.PrivateKey:
		// jwkset keeps private material when a document carries it; we only ever verify.
		return &key.PublicKey, true
	default:
		return nil, false
	}
}
