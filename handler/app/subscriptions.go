package app

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// CallbackPolicy checks a callback URL at registration; it returns KindInvalid naming
// "config.url" for a URL the deployment does not allow.
type CallbackPolicy func(rawURL string) error

// Subscriptions stores webhook subscriptions of every kind and matches events to them.
//
// Storage: the subscriptions table holds the record (partition tenant, row id); the
// subscriptionindex table holds a full copy per service (partition "<tenant>|<serviceId>"),
// so matching an event reads only the subscriptions of its service, from a cache.
type Subscriptions struct {
	dir    *Directory
	table  nimbus.Table
	index  nimbus.Table
	policy CallbackPolicy
	now    func() time.Time
	ttl    time.Duration

	mu    sync.Mutex
	cache *lru[string, cachedSubs] // by indexKey(tenant, service)
	byID  *lru[string, cachedSub]  // by tenant|id, for deliveries
}

// Bounds of the subscription caches, in entries; an entry dropped is read again when needed.
const (
	maxCachedServices      = 16384
	maxCachedSubscriptions = 16384
)

type cachedSub struct {
	sub    nimbus.Subscription
	loaded time.Time
}

type cachedSubs struct {
	subs   []nimbus.Subscription
	loaded time.Time
}

// SubscriptionCacheTTL bounds how long another instance's change to a subscription may go
// unseen by this one; changes through this instance invalidate at once.
const SubscriptionCacheTTL = 5 * time.Second

// NewSubscriptions returns the subscription store.
func NewSubscriptions(dir *Directory, table, index nimbus.Table, policy CallbackPolicy) *Subscriptions {
	return &Subscriptions{dir: dir, table: table, index: index, policy: policy, now: time.Now, ttl: SubscriptionCacheTTL, cache: newLRU[string, cachedSubs](maxCachedServices), byID: newLRU[string, cachedSub](maxCachedSubscriptions)}
}

// subscriptionID derives the id from tenant, kind, owner and callback URL, so that Power
// Automate's re-registration on every flow save finds the same subscription (SPEC 4.1).
func subscriptionID(tenant string, kind nimbus.SubscriptionKind, owner, callback string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{strings.ToLower(tenant), string(kind), nimbus.FoldUPN(owner), callback}, "\x00")))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:20]))
}

func indexKey(tenant, serviceID string) string { return tenant + "|" + serviceID }

// Get returns the subscription, or KindNotFound.
func (s *Subscriptions) Get(ctx context.Context, tenant, id string) (nimbus.Subscription, error) {
	e, err := s.table.Get(ctx, tenant, id)
	if err != nil {
		if errors.Is(err, nimbus.ErrNotFound) {
			return nimbus.Subscription{}, nimbus.NotFound("Subscription %q was not found.", id)
		}
		return nimbus.Subscription{}, fmt.Errorf("read subscription: %w", err)
	}
	var sub nimbus.Subscription
	if err := json.Unmarshal(e.Data, &sub); err != nil {
		return nimbus.Subscription{}, fmt.Errorf("decode subscription %s: %w", id, err)
	}
	return sub, nil
}

// save writes the record and its index copies, and removes index copies of services the
// subscription no longer has (dropped). A failure part-way is repaired by the next save.
func (s *Subscriptions) save(ctx context.Context, sub nimbus.Subscription, dropped []string) error {
	data, err := json.Marshal(sub)
	if err != nil {
		return fmt.Errorf("encode subscription: %w", err)
	}
	if _, err := s.table.Upsert(ctx, nimbus.Entity{PartitionKey: sub.TenantID, RowKey: sub.ID, Data: data}); err != nil {
		return fmt.Errorf("store subscription: %w", err)
	}
	s.forget(sub.TenantID, sub.ID)
	for _, svc := range sub.ServiceIDs {
		if _, err := s.index.Upsert(ctx, nimbus.Entity{PartitionKey: indexKey(sub.TenantID, svc), RowKey: sub.ID, Data: data}); err != nil {
			return fmt.Errorf("index subscription: %w", err)
		}
		s.invalidate(sub.TenantID, svc)
	}
	for _, svc := range dropped {
		if err := s.index.Delete(ctx, indexKey(sub.TenantID, svc), sub.ID, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
			return fmt.Errorf("unindex subscription: %w", err)
		}
		s.invalidate(sub.TenantID, svc)
	}
	return nil
}

// Cached returns the subscription like Get, from a cache trusted for the same TTL as the
// matching cache: every delivery needs its subscription, and the fan-out has just read it.
// Changes through this instance are seen at once.
func (s *Subscriptions) Cached(ctx context.Context, tenant, id string) (nimbus.Subscription, error) {
	key := tenant + "|" + id
	s.mu.Lock()
	c, ok := s.byID.get(key)
	s.mu.Unlock()
	if ok && s.now().Sub(c.loaded) < s.ttl {
		return c.sub, nil
	}
	sub, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nimbus.Subscription{}, err
	}
	s.mu.Lock()
	s.byID.put(key, cachedSub{sub: sub, loaded: s.now()})
	s.mu.Unlock()
	return sub, nil
}

// forget drops the cached copy of one subscription.
func (s *Subscriptions) forget(tenant, id string) {
	s.mu.Lock()
	s.byID.remove(tenant + "|" + id)
	s.mu.Unlock()
}

func (s *Subscriptions) invalidate(tenant, serviceID string) {
	s.mu.Lock()
	s.cache.remove(indexKey(tenant, serviceID))
	s.mu.Unlock()
}

// ForService returns the subscriptions indexed under the service: the cost depends on that
// service's subscriptions only (SPEC 4.2).
func (s *Subscriptions) ForService(ctx context.Context, tenant, serviceID string) ([]nimbus.Subscription, error) {
	key := indexKey(tenant, serviceID)
	s.mu.Lock()
	c, ok := s.cache.get(key)
	s.mu.Unlock()
	if ok && s.now().Sub(c.loaded) < s.ttl {
		return c.subs, nil
	}
	var subs []nimbus.Subscription
	err := eachRecord(ctx, s.index, key, "", func(_ nimbus.Entity, sub nimbus.Subscription) error {
		subs = append(subs, sub)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list subscriptions of a service: %w", err)
	}
	s.mu.Lock()
	s.cache.put(key, cachedSubs{subs: subs, loaded: s.now()})
	s.mu.Unlock()
	return subs, nil
}

// SetStatus moves a subscription to status with a reason (and the 404 streak), keeping its
// index copies in step. A subscription deleted meanwhile is left deleted.
func (s *Subscriptions) SetStatus(ctx context.Context, tenant, id string, status nimbus.SubscriptionStatus, reason string, notFoundStreak int) error {
	sub, err := s.Get(ctx, tenant, id)
	if errors.Is(err, nimbus.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if sub.Status == status && sub.StatusReason == reason && sub.NotFoundStreak == notFoundStreak {
		return nil
	}
	sub.Status, sub.StatusReason, sub.NotFoundStreak, sub.Updated = status, reason, notFoundStreak, s.now().UTC()
	return s.save(ctx, sub, nil)
}
