package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Directory keeps tenant directories in the directory table and serves them from an
// in-memory cache.
//
// Storage layout, per tenant partition: a "head" row naming the current version, and one row
// per entity under "v<version>|<kind>|<id>". An import writes a complete new version and then
// flips the head with an ETag condition, so readers see the old directory or the new one,
// never a mix, and a crash half-way through an import leaves only unreferenced rows, which the
// next import removes.
type Directory struct {
	table nimbus.Table
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache *lru[string, *cachedIndex] // tenants with a directory
	// missing remembers tenants found to have no directory, for the same TTL, so a stream of
	// requests naming unknown tenants costs neither a storage read each nor unbounded memory,
	// and cannot push known tenants out of cache.
	missing *lru[string, time.Time]
	// forgets counts invalidations: a read that raced with one does not cache what it read,
	// so an import through this process takes effect at once.
	forgets uint64
}

// Bounds of the directory caches, in tenants. A tenant dropped from the cache is read again
// on its next request; no answer depends on these numbers.
const (
	maxCachedTenants  = 4096
	maxMissingTenants = 4096
)

type cachedIndex struct {
	mu      sync.Mutex // serializes reloads of one tenant
	index   *nimbus.Index
	version uint64
	checked time.Time
}

// DefaultDirectoryTTL is how long a cached directory is trusted before its head row is read
// again. Imports through this process invalidate at once; the TTL bounds how long another
// instance (Functions scale-out) may serve the previous directory.
const DefaultDirectoryTTL = 10 * time.Second

// NewDirectory returns a Directory over table; ttl ≤ 0 selects DefaultDirectoryTTL.
func NewDirectory(table nimbus.Table, ttl time.Duration) *Directory {
	if ttl <= 0 {
		ttl = DefaultDirectoryTTL
	}
	return &Directory{table: table, ttl: ttl, now: time.Now, cache: newLRU[string, *cachedIndex](maxCachedTenants), missing: newLRU[string, time.Time](maxMissingTenants)}
}

const headRow = "head"

type head struct {
	Version uint64 `json:"version"`
}

type entityRow struct {
	Kind string          `json:"kind"`
	Seq  int             `json:"seq"`
	Data json.RawMessage `json:"data"`
}

const (
	kindOU      = "ou"
	kindService = "service"
	kindUser    = "user"
	kindBook    = "book"
	kindSetting = "settings"
)

func versionPrefix(v uint64) string { return fmt.Sprintf("v%016x|", v) }

// Index returns the tenant's current directory, or KindNotFound for an unknown tenant.
func (d *Directory) Index(ctx context.Context, tenantID string) (*nimbus.Index, error) {
	if !nimbus.ValidTenantID(tenantID) {
		return nil, nimbus.NotFound("Tenant %q is not known to Nimbus.", tenantID)
	}
	d.mu.Lock()
	epoch := d.forgets
	c, ok := d.cache.get(tenantID)
	if !ok {
		if at, ok := d.missing.get(tenantID); ok && d.now().Sub(at) < d.ttl {
			d.mu.Unlock()
			return nil, errUnknownTenant(tenantID)
		}
		c = &cachedIndex{}
	}
	d.mu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.index != nil && d.now().Sub(c.checked) < d.ttl {
		return c.index, nil
	}
	h, _, err := d.readHead(ctx, tenantID)
	if err != nil {
		if errors.Is(err, nimbus.ErrNotFound) {
			c.index = nil
			d.mu.Lock()
			if d.forgets == epoch {
				d.cache.remove(tenantID)
				d.missing.put(tenantID, d.now())
			}
			d.mu.Unlock()
		}
		return nil, err
	}
	if c.index == nil || c.version != h.Version {
		x, err := d.load(ctx, tenantID, h.Version)
		if err != nil {
			return nil, err
		}
		c.index, c.version = x, h.Version
	}
	c.checked = d.now()
	d.mu.Lock()
	if d.forgets == epoch {
		d.cache.put(tenantID, c)
		d.missing.remove(tenantID)
	}
	d.mu.Unlock()
	return c.index, nil
}

// forgetLocked drops what the caches hold about the tenant, known or missing; d.mu is held.
func (d *Directory) forgetLocked(tenantID string) {
	d.forgets++
	d.cache.remove(tenantID)
	d.missing.remove(tenantID)
}

func errUnknownTenant(tenantID string) error {
	return nimbus.NotFound("Tenant %q is not known to Nimbus.", tenantID)
}

// TenantKnown reports whether the tenant has a directory.
func (d *Directory) TenantKnown(ctx context.Context, tenantID string) (bool, error) {
	_, err := d.Index(ctx, tenantID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, nimbus.ErrNotFound):
		return false, nil
	}
	return false, err
}

func (d *Directory) readHead(ctx context.Context, tenantID string) (head, string, error) {
	e, err := d.table.Get(ctx, tenantID, headRow)
	if err != nil {
		if errors.Is(err, nimbus.ErrNotFound) {
			return head{}, "", errUnknownTenant(tenantID)
		}
		return head{}, "", fmt.Errorf("read directory head of %s: %w", tenantID, err)
	}
	var h head
	if err := json.Unmarshal(e.Data, &h); err != nil {
		return head{}, "", fmt.Errorf("decode directory head of %s: %w", tenantID, err)
	}
	return h, e.ETag, nil
}

func (d *Directory) load(ctx context.Context, tenantID string, version uint64) (*nimbus.Index, error) {
	var rows []entityRow
	err := eachRecord(ctx, d.table, tenantID, versionPrefix(version), func(_ nimbus.Entity, r entityRow) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load directory of %s: %w", tenantID, err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Seq < rows[j].Seq })
	dir := nimbus.Directory{TenantID: tenantID}
	for _, r := range rows {
		var err error
		switch r.Kind {
		case kindOU:
			dir.OUs, err = appendDecoded(dir.OUs, r.Data)
		case kindService:
			dir.Services, err = appendDecoded(dir.Services, r.Data)
		case kindUser:
			dir.Users, err = appendDecoded(dir.Users, r.Data)
		case kindBook:
			dir.AddressBooks, err = appendDecoded(dir.AddressBooks, r.Data)
		case kindSetting:
			dir.Settings, err = decodeSettings(r.Data)
		}
		if err != nil {
			return nil, fmt.Errorf("decode directory of %s: %w", tenantID, err)
		}
	}
	x, err := nimbus.NewIndex(dir)
	if err != nil {
		return nil, fmt.Errorf("stored directory of %s is invalid: %w", tenantID, err)
	}
	return x, nil
}

func appendDecoded[T any](list []T, data json.RawMessage) ([]T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return list, err
	}
	return append(list, v), nil
}
