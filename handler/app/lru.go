package app

import "container/list"

// lru is a map that holds at most max entries and drops the least recently used one to make
// room. Every cache keyed by something a caller chooses (a tenant id, a service, a
// subscription) is one, so that requests naming ever new keys cannot grow memory without
// bound. Not safe for concurrent use: the owner's mutex guards it.
type lru[K comparable, V any] struct {
	max   int
	order *list.List // of *lruEntry; front is the most recently used
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key   K
	value V
}

// newLRU returns an empty cache of at most size entries (at least one).
func newLRU[K comparable, V any](size int) *lru[K, V] {
	return &lru[K, V]{max: max(size, 1), order: list.New(), items: make(map[K]*list.Element)}
}

// get returns the value under k and marks it as used.
func (c *lru[K, V]) get(k K) (V, bool) {
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry[K, V]).value, true
}

// put stores v under k, dropping the least recently used entry when the cache is full.
func (c *lru[K, V]) put(k K, v V) {
	if el, ok := c.items[k]; ok {
		el.Value.(*lruEntry[K, V]).value = v
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, value: v})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*lruEntry[K, V]).key)
	}
}

// remove drops the entry under k, if any.
func (c *lru[K, V]) remove(k K) {
	if el, ok := c.items[k]; ok {
		c.order.Remove(el)
		delete(c.items, k)
	}
}

func (c *lru[K, V]) len() int { return c.order.Len() }
