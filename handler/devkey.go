package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nimbusflow/connector/handler/entra"
)

// newDevIssuer starts the dev issuer in the background (see entra.AsyncDevIssuer). The key is
// kept in the embedded data directory, so dev tokens survive a restart; with Azure storage
// (dev auth only when asked for explicitly) it lives in memory only.
func newDevIssuer(cfg config) *entra.AsyncDevIssuer {
	return entra.NewAsyncDevIssuer(cfg.audiences[0], func() (*rsa.PrivateKey, error) {
		if cfg.storage.azure() {
			return rsa.GenerateKey(rand.Reader, 2048)
		}
		return devKey(filepath.Join(cfg.dataDir, "dev-signing-key.pem"))
	})
}

// devKey reads the key at path, or generates and stores one.
func devKey(path string) (*rsa.PrivateKey, error) {
	if data, err := os.ReadFile(path); err == nil {
		if block, _ := pem.Decode(data); block != nil {
			if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
				return key, nil
			}
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate dev signing key: %w", err)
	}
	block := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(path, block, 0o600); err != nil {
		return nil, fmt.Errorf("store dev signing key: %w", err)
	}
	return key, nil
}
