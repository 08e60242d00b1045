package webhook

import "sync"

// Acquire reserves one of the MaxPerHost request slots of url's host (host and port,
// case-insensitive) without blocking. ok is false when the host is full: the delivery
// worker then postpones the delivery instead of waiting. The per-host cap is only the outer
// bound; isolation between flows is per subscription and lives with the deliveries (SPEC 4.4
// "Fairness"). After ok is true, release must be called once when the attempt is over;
// further calls do nothing. A failed Acquire returns a release that does nothing.
func (c *Client) Acquire(url string) (release func(), ok bool) {
	return c.acquire(url, false)
}

// AcquireSlow is Acquire for an attempt of a subscription that keeps timing out. Such
// attempts together hold at most half of a host's slots, so however many slow flows share a
// host, the other half stays free for the healthy ones.
func (c *Client) AcquireSlow(url string) (release func(), ok bool) {
	return c.acquire(url, true)
}

// hostSlots counts the requests in flight to one host, and how many of them are slow.
type hostSlots struct{ all, slow int }

func (c *Client) acquire(url string, slow bool) (func(), bool) {
	key := hostKey(url)
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.inFlight[key]
	if h.all >= c.maxPerHost || slow && h.slow >= max(c.maxPerHost/2, 1) {
		return func() {}, false
	}
	h.all++
	if slow {
		h.slow++
	}
	c.inFlight[key] = h
	var once sync.Once
	return func() { once.Do(func() { c.release(key, slow) }) }, true
}

func (c *Client) release(key string, slow bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.inFlight[key]
	h.all--
	if slow {
		h.slow--
	}
	if h.all <= 0 {
		delete(c.inFlight, key)
		return
	}
	c.inFlight[key] = h
}
