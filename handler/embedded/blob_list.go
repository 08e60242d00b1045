package embedded

import (
	"bufio"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// List implements nimbus.Blobs. It walks the directory the prefix names (the part up to its
// last "/"), so listing one tenant's blobs reads only that tenant's directory. The cursor is
// the last name of the previous page.
func (b *FileBlobs) List(ctx context.Context, prefix, cursor string, limit int) (nimbus.BlobPage, error) {
	if limit < 1 || limit > nimbus.MaxPageSize {
		return nimbus.BlobPage{}, nimbus.Invalid("limit", "limit must be between 1 and %d", nimbus.MaxPageSize)
	}
	start := b.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = b.path(prefix[:i])
	}
	var names []string
	err := filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == start && os.IsNotExist(err) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(b.root, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if strings.HasPrefix(name, prefix) && name > cursor {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nimbus.BlobPage{}, fileError("list blobs", err)
	}
	slices.Sort(names)
	var page nimbus.BlobPage
	if len(names) > limit {
		names = names[:limit]
		page.Next = names[limit-1]
	}
	for _, name := range names {
		info, err := b.stat(name)
		if nimbus.KindOf(err) == nimbus.KindNotFound {
			continue // deleted since the walk
		}
		if err != nil {
			return nimbus.BlobPage{}, err
		}
		page.Blobs = append(page.Blobs, info)
	}
	return page, nil
}

// stat reads a blob's info without its content.
func (b *FileBlobs) stat(name string) (nimbus.BlobInfo, error) {
	f, err := os.Open(b.path(name))
	if err != nil {
		return nimbus.BlobInfo{}, fileError("stat blob "+name, err)
	}
	defer f.Close()
	return readBlobHeader(bufio.NewReaderSize(f, 4<<10), f, name)
}
