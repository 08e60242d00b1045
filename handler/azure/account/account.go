// Package account holds what the Azure Storage adapters (tables, blobs) share about reaching
// one storage account: Azurite's development-storage shorthand and bounded SDK retries. It
// knows nothing of tables or blobs and imports no other adapter.
package account

import (
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// devAccount is Azurite's well-known development account and key, which the SDKs' parsers do
// not derive from "UseDevelopmentStorage=true" by themselves.
const devAccount = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"

// DevStorage is the full connection string of Azurite's development account with one
// service endpoint, e.g. DevStorage("TableEndpoint", 10002).
func DevStorage(endpointKey string, port int) string {
	return devAccount + endpointKey + "=http://127.0.0.1:" + strconv.Itoa(port) + "/devstoreaccount1;"
}

// ExpandConnectionString replaces the development-storage shorthand
// ("UseDevelopmentStorage=true", in any case and with any other parts) by dev, the full form
// for the calling service; any other connection string is returned trimmed.
func ExpandConnectionString(s, dev string) string {
	s = strings.TrimSpace(s)
	for part := range strings.SplitSeq(s, ";") {
		k, v, _ := strings.Cut(part, "=")
		if strings.EqualFold(strings.TrimSpace(k), "UseDevelopmentStorage") && strings.EqualFold(strings.TrimSpace(v), "true") {
			return dev
		}
	}
	return s
}

// Retry bounds the SDK's retries. Its defaults (3 retries, delays up to a minute, no per-try
// timeout) make an unreachable account hang a request for minutes; callers would rather get
// KindUnavailable within seconds and retry at their own level. tryTimeout is what one request
// (a 4 MiB batch, one block of an upload) may take on any working link. As with any retry, a
// write whose response was lost may come back as a conflict on the retry although it was
// stored.
func Retry(tryTimeout time.Duration) policy.RetryOptions {
	return policy.RetryOptions{
		MaxRetries:    2,
		RetryDelay:    200 * time.Millisecond,
		MaxRetryDelay: 2 * time.Second,
		TryTimeout:    tryTimeout,
	}
}
