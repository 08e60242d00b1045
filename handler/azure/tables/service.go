package tables

import (
	"context"
	"errors"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/nimbusflow/connector/handler/azure/account"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// Config says how to reach a storage account: a connection string (Azurite or a key-based
// account), or a Table service URL with a token credential (identity-based, as in Azure).
type Config struct {
	// ConnectionString takes precedence when set. "UseDevelopmentStorage=true" means Azurite
	// on its default table port.
	ConnectionString string
	// ServiceURL is the Table endpoint, e.g. https://account.table.core.windows.net.
	ServiceURL string
	// Credential authenticates ServiceURL requests; nil means azidentity's
	// DefaultAzureCredential (managed identity in Azure, developer credentials locally).
	Credential azcore.TokenCredential
}

// devStorage is the full form of "UseDevelopmentStorage=true" for the Table service.
var devStorage = account.DevStorage("TableEndpoint", 10002)

// expandConnectionString replaces the development storage shorthand by its full form.
func expandConnectionString(s string) string { return account.ExpandConnectionString(s, devStorage) }

// clientOptions bound the SDK's retries (account.Retry); a 4 MiB batch has ample time.
func clientOptions() *aztables.ClientOptions {
	return &aztables.ClientOptions{ClientOptions: azcore.ClientOptions{Retry: account.Retry(10 * time.Second)}}
}

// Service is one storage account's Table service. It is safe for concurrent use.
type Service struct {
	client *aztables.ServiceClient
}

var _ nimbus.Tables = (*Service)(nil)

// Open connects to the account and creates the named tables that do not exist yet. Errors
// are *nimbus.Error: KindInvalid for a bad configuration, KindUnavailable when the service
// cannot be reached.
func Open(ctx context.Context, cfg Config, names ...string) (*Service, error) {
	client, err := newServiceClient(cfg)
	if err != nil {
		return nil, err
	}
	s := &Service{client: client}
	for _, name := range names {
		_, err := client.CreateTable(ctx, name, nil)
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.ErrorCode == string(aztables.TableAlreadyExists) {
			continue
		}
		if err != nil {
			return nil, translate("create table "+name, err)
		}
	}
	return s, nil
}

func newServiceClient(cfg Config) (*aztables.ServiceClient, error) {
	if cfg.ConnectionString != "" {
		c, err := aztables.NewServiceClientFromConnectionString(expandConnectionString(cfg.ConnectionString), clientOptions())
		if err != nil {
			return nil, &nimbus.Error{Kind: nimbus.KindInvalid, Target: "connectionString",
				Message: "the storage connection string is malformed", Err: err}
		}
		return c, nil
	}
	if cfg.ServiceURL == "" {
		return nil, nimbus.Invalid("serviceURL", "a storage connection string or a Table service URL is required")
	}
	cred := cfg.Credential
	if cred == nil {
		dc, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, &nimbus.Error{Kind: nimbus.KindInvalid, Target: "credential",
				Message: "no Azure credential is available for the storage account", Err: err}
		}
		cred = dc
	}
	c, err := aztables.NewServiceClient(cfg.ServiceURL, cred, clientOptions())
	if err != nil {
		return nil, &nimbus.Error{Kind: nimbus.KindInvalid, Target: "serviceURL",
			Message: "the Table service URL is malformed", Err: err}
	}
	return c, nil
}

// Table returns the named table. It does not check that the table exists; operations on a
// missing table fail with KindNotFound.
func (s *Service) Table(name string) nimbus.Table {
	return &table{client: s.client.NewClient(name)}
}
