package sim

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// EntraTokens gets app tokens with Entra client credentials (a client secret), for a
// handler in Azure. The app registration needs the app roles Nimbus.Core and Nimbus.Admin
// of the connector's API.
type EntraTokens struct {
	cred  azcore.TokenCredential
	scope string
}

// NewEntraTokens prepares the client-secret credential.
func NewEntraTokens(tenantID, clientID, secret, scope string) (*EntraTokens, error) {
	switch {
	case tenantID == "":
		return nil, fmt.Errorf("--entra-tenant is required with --auth entra")
	case clientID == "":
		return nil, fmt.Errorf("--entra-client-id is required with --auth entra")
	case secret == "":
		return nil, fmt.Errorf("NIMBUS_SIM_CLIENT_SECRET is required with --auth entra")
	case scope == "":
		return nil, fmt.Errorf("--entra-scope is required with --auth entra, for example api://<connector app id>/.default")
	}
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secret, nil)
	if err != nil {
		return nil, fmt.Errorf("create the Entra client credential: %w", err)
	}
	return &EntraTokens{cred: cred, scope: scope}, nil
}

// Token returns a token for the connector's API; the credential caches and renews it.
func (e *EntraTokens) Token(ctx context.Context) (string, error) {
	tok, err := e.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{e.scope}})
	if err != nil {
		return "", fmt.Errorf("get an Entra token: %w", err)
	}
	return tok.Token, nil
}
