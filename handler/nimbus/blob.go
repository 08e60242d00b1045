package nimbus

import (
	"context"
	"io"
	"strings"
	"time"
	"unicode"
)

// BlobInfo describes one stored blob.
type BlobInfo struct {
	// Name is the blob's full name within its store, segments separated by "/".
	Name        string
	Size        int64
	ContentType string
	// Modified is when the blob's current content was stored (UTC).
	Modified time.Time
	// ETag identifies the stored version; it changes with every Put.
	ETag string
	// Metadata holds the small string pairs given to Put (see CheckBlobMetadata).
	Metadata map[string]string
}

// BlobPage is one page of a Blobs.List.
type BlobPage struct {
	Blobs []BlobInfo
	// Next is the cursor of the following page; empty when this was the last page.
	Next string
}

// PutOptions are the properties stored with a blob's content.
type PutOptions struct {
	ContentType string
	Metadata    map[string]string
}

// Blobs is a store of named byte streams with Blob Storage semantics: a Put replaces the
// whole blob atomically, so a reader (or a restart after a crash at any point) sees either
// the previous content or the new one, never a mix or a partial write. Implementations are
// safe for concurrent use. Every error is a *Error: KindNotFound, KindInvalid (a bad name or
// metadata), KindUnavailable (the backend cannot be reached, timed out, or is full).
type Blobs interface {
	// Put stores everything r yields under name with opts, replacing any blob of that name,
	// and returns the stored blob's info. Concurrent Puts of one name: the last to finish
	// wins, whole. When r fails, nothing is stored and the previous blob stays.
	Put(ctx context.Context, name string, r io.Reader, opts PutOptions) (BlobInfo, error)
	// Get opens the blob for reading; the caller closes the reader. KindNotFound when there
	// is no such blob. A Put or Delete after Get returned does not affect what the open
	// reader yields in the embedded store; Azure may fail the read with KindConflict.
	Get(ctx context.Context, name string) (io.ReadCloser, BlobInfo, error)
	// Delete removes the blob; KindNotFound when there is none. Concurrent Deletes of one
	// name: one succeeds, the others report KindNotFound.
	Delete(ctx context.Context, name string) error
	// List returns the blobs whose name starts with prefix (empty: all), in ascending byte
	// order of their names, at most limit (1..MaxPageSize) per page, continuing from cursor
	// (empty: from the start). Cursors are opaque; a full pass sees every blob that existed
	// throughout it exactly once.
	List(ctx context.Context, prefix, cursor string, limit int) (BlobPage, error)
}

// Limits of blob names and metadata, the stricter of Azure Blob Storage's and a file
// system's: names are at most MaxBlobName bytes, metadata at most MaxBlobMetadata pairs.
const (
	MaxBlobName          = 1024
	MaxBlobSegment       = 255
	MaxBlobMetadata      = 16
	MaxBlobMetadataValue = 256
)

// CheckBlobName validates a blob name: "/"-separated segments, each non-empty, at most
// MaxBlobSegment bytes, not "." or "..", without "\" or control characters. Such a name is
// the same blob in every implementation (and a safe relative path for the embedded one).
func CheckBlobName(name string) error {
	if name == "" || len(name) > MaxBlobName {
		return Invalid("name", "a blob name must hold 1 to %d bytes", MaxBlobName)
	}
	for seg := range strings.SplitSeq(name, "/") {
		switch {
		case seg == "" || seg == "." || seg == "..":
			return Invalid("name", "blob name %q has an empty, \".\" or \"..\" segment", name)
		case len(seg) > MaxBlobSegment:
			return Invalid("name", "blob name %q has a segment longer than %d bytes", name, MaxBlobSegment)
		case strings.ContainsRune(seg, '\\') || strings.IndexFunc(seg, unicode.IsControl) >= 0:
			return Invalid("name", "blob name %q holds a backslash or a control character", name)
		case strings.HasPrefix(seg, ".tmp-"):
			return Invalid("name", "blob name %q has a segment starting with .tmp-, which is reserved", name)
		}
	}
	return nil
}

// CheckBlobMetadata validates metadata: at most MaxBlobMetadata pairs, keys of lowercase
// ASCII letters and digits starting with a letter (Azure metadata names are C# identifiers
// and case-insensitive), values of printable ASCII up to MaxBlobMetadataValue bytes.
func CheckBlobMetadata(md map[string]string) error {
	if len(md) > MaxBlobMetadata {
		return Invalid("metadata", "blob metadata holds at most %d pairs", MaxBlobMetadata)
	}
	for k, v := range md {
		if k == "" || k[0] < 'a' || k[0] > 'z' || strings.IndexFunc(k, func(r rune) bool {
			return (r < 'a' || r > 'z') && (r < '0' || r > '9')
		}) >= 0 {
			return Invalid("metadata", "blob metadata name %q must be lowercase ASCII letters and digits, starting with a letter", k)
		}
		if len(v) > MaxBlobMetadataValue || strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
			return Invalid("metadata", "blob metadata %q must be printable ASCII of at most %d bytes", k, MaxBlobMetadataValue)
		}
	}
	return nil
}

// Blob containers (ARCHITECTURE.md, storage layout).
const (
	// ContainerTranscripts holds one blob per service session: {tenant}/{serviceSessionId}.json.
	ContainerTranscripts = "transcripts"
)
