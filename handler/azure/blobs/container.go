package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/nimbusflow/connector/handler/azure/account"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// Config says how to reach the Blob service: a connection string, or a service URL with a
// token credential (identity-based, as in Azure).
type Config struct {
	// ConnectionString takes precedence when set. "UseDevelopmentStorage=true" means Azurite
	// on its default blob port.
	ConnectionString string
	// ServiceURL is the Blob endpoint, e.g. https://account.blob.core.windows.net.
	ServiceURL string
	// Credential authenticates ServiceURL requests; nil means azidentity's
	// DefaultAzureCredential.
	Credential azcore.TokenCredential
}

// devStorage is the full form of "UseDevelopmentStorage=true" for the Blob service.
var devStorage = account.DevStorage("BlobEndpoint", 10000)

func expandConnectionString(s string) string { return account.ExpandConnectionString(s, devStorage) }

// clientOptions bound the SDK's retries (account.Retry); one block of an upload has ample
// time.
func clientOptions() *container.ClientOptions {
	return &container.ClientOptions{ClientOptions: azcore.ClientOptions{Retry: account.Retry(30 * time.Second)}}
}

// Upload shape: blocks of blockSize, at most uploadConcurrency in flight, so one Put holds
// at most blockSize*uploadConcurrency bytes in memory whatever the blob's size.
const (
	blockSize         = 1 << 20
	uploadConcurrency = 2
)

// Container is one blob container. It is safe for concurrent use.
type Container struct {
	client *container.Client
}

var _ nimbus.Blobs = (*Container)(nil)

// Open connects to the container name, creating it when it does not exist. Errors are
// *nimbus.Error: KindInvalid for a bad configuration, KindUnavailable when the service
// cannot be reached.
func Open(ctx context.Context, cfg Config, name string) (*Container, error) {
	client, err := newContainerClient(cfg, name)
	if err != nil {
		return nil, err
	}
	_, err = client.Create(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return nil, translate("create container "+name, err)
	}
	return &Container{client: client}, nil
}

func newContainerClient(cfg Config, name string) (*container.Client, error) {
	if cfg.ConnectionString != "" {
		c, err := container.NewClientFromConnectionString(expandConnectionString(cfg.ConnectionString), name, clientOptions())
		if err != nil {
			return nil, &nimbus.Error{Kind: nimbus.KindInvalid, Target: "connectionString", Message: "the storage connection string is malformed", Err: err}
		}
		return c, nil
	}
	if cfg.ServiceURL == "" {
		return nil, nimbus.Invalid("serviceURL", "a storage connection string or a Blob service URL is required")
	}
	cred := cfg.Credential
	if cred == nil {
		dc, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, &nimbus.Error{Kind: nimbus.KindInvalid, Target: "credential", Message: "no Azure credential is available for the storage account", Err: err}
		}
		cred = dc
	}
	c, err := container.NewClient(strings.TrimRight(cfg.ServiceURL, "/")+"/"+name, cred, clientOptions())
	if err != nil {
		return nil, &nimbus.Error{Kind: nimbus.KindInvalid, Target: "serviceURL", Message: "the Blob service URL is malformed", Err: err}
	}
	return c, nil
}

// Put implements nimbus.Blobs. The content is staged in blocks and committed with one
// Put Block List, which replaces the blob atomically; a failed upload commits nothing.
func (c *Container) Put(ctx context.Context, name string, r io.Reader, opts nimbus.PutOptions) (nimbus.BlobInfo, error) {
	if err := nimbus.CheckBlobName(name); err != nil {
		return nimbus.BlobInfo{}, err
	}
	if err := nimbus.CheckBlobMetadata(opts.Metadata); err != nil {
		return nimbus.BlobInfo{}, err
	}
	counted := &countingReader{r: r}
	o := &blockblob.UploadStreamOptions{BlockSize: blockSize, Concurrency: uploadConcurrency, Metadata: toSDKMetadata(opts.Metadata)}
	if opts.ContentType != "" {
		o.HTTPHeaders = &blob.HTTPHeaders{BlobContentType: to.Ptr(opts.ContentType)}
	}
	resp, err := c.client.NewBlockBlobClient(name).UploadStream(ctx, counted, o)
	if err != nil {
		if counted.err != nil {
			return nimbus.BlobInfo{}, fmt.Errorf("put blob %s: read content: %w", name, counted.err)
		}
		return nimbus.BlobInfo{}, translate("put blob "+name, err)
	}
	info := nimbus.BlobInfo{Name: name, Size: counted.n, ContentType: opts.ContentType, Metadata: opts.Metadata}
	if resp.ETag != nil {
		info.ETag = string(*resp.ETag)
	}
	if resp.LastModified != nil {
		info.Modified = resp.LastModified.UTC()
	}
	return info, nil
}

// countingReader counts what the upload read and keeps the source's own error, so a
// client that went away is not reported as a storage failure.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}

// Get implements nimbus.Blobs.
func (c *Container) Get(ctx context.Context, name string) (io.ReadCloser, nimbus.BlobInfo, error) {
	if err := nimbus.CheckBlobName(name); err != nil {
		return nil, nimbus.BlobInfo{}, err
	}
	resp, err := c.client.NewBlobClient(name).DownloadStream(ctx, nil)
	if err != nil {
		return nil, nimbus.BlobInfo{}, translate("get blob "+name, err)
	}
	info := nimbus.BlobInfo{Name: name, Metadata: fromSDKMetadata(resp.Metadata)}
	if resp.ContentLength != nil {
		info.Size = *resp.ContentLength
	}
	if resp.ContentType != nil {
		info.ContentType = *resp.ContentType
	}
	if resp.ETag != nil {
		info.ETag = string(*resp.ETag)
	}
	if resp.LastModified != nil {
		info.Modified = resp.LastModified.UTC()
	}
	return &translatingReader{rc: resp.Body, name: name}, info, nil
}

// translatingReader reports read failures in the nimbus vocabulary.
type translatingReader struct {
	rc   io.ReadCloser
	name string
}

func (t *translatingReader) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, translate("read blob "+t.name, err)
	}
	return n, err
}

func (t *translatingReader) Close() error { return t.rc.Close() }

// Delete implements nimbus.Blobs.
func (c *Container) Delete(ctx context.Context, name string) error {
	if err := nimbus.CheckBlobName(name); err != nil {
		return err
	}
	_, err := c.client.NewBlobClient(name).Delete(ctx, nil)
	return translate("delete blob "+name, err)
}

// List implements nimbus.Blobs; the cursor is the service's continuation marker.
func (c *Container) List(ctx context.Context, prefix, cursor string, limit int) (nimbus.BlobPage, error) {
	if limit < 1 || limit > nimbus.MaxPageSize {
		return nimbus.BlobPage{}, nimbus.Invalid("limit", "limit must be between 1 and %d", nimbus.MaxPageSize)
	}
	o := &container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Metadata: true}, MaxResults: to.Ptr(int32(limit))}
	if prefix != "" {
		o.Prefix = to.Ptr(prefix)
	}
	if cursor != "" {
		o.Marker = to.Ptr(cursor)
	}
	resp, err := c.client.NewListBlobsFlatPager(o).NextPage(ctx)
	if err != nil {
		return nimbus.BlobPage{}, translate("list blobs", err)
	}
	var page nimbus.BlobPage
	if resp.NextMarker != nil {
		page.Next = *resp.NextMarker
	}
	if resp.Segment == nil {
		return page, nil
	}
	for _, item := range resp.Segment.BlobItems {
		if item.Name == nil {
			continue
		}
		info := nimbus.BlobInfo{Name: *item.Name, Metadata: fromSDKMetadata(item.Metadata)}
		if p := item.Properties; p != nil {
			if p.ContentLength != nil {
				info.Size = *p.ContentLength
			}
			if p.ContentType != nil {
				info.ContentType = *p.ContentType
			}
			if p.ETag != nil {
				info.ETag = string(*p.ETag)
			}
			if p.LastModified != nil {
				info.Modified = p.LastModified.UTC()
			}
		}
		page.Blobs = append(page.Blobs, info)
	}
	return page, nil
}

func toSDKMetadata(md map[string]string) map[string]*string {
	if len(md) == 0 {
		return nil
	}
	out := make(map[string]*string, len(md))
	for k, v := range md {
		out[k] = to.Ptr(v)
	}
	return out
}

// fromSDKMetadata lowercases names: the service may return them in another case than they
// were written, and nimbus metadata names are lowercase.
func fromSDKMetadata(md map[string]*string) map[string]string {
	if len(md) == 0 {
		return nil
	}
	out := make(map[string]string, len(md))
	for k, v := range md {
		if v != nil {
			out[strings.ToLower(k)] = *v
		}
	}
	return out
}
