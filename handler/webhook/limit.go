package webhook

import "sync"

// Acquire reserves one of the MaxPerHost request slots of url's host (host and port,
// case-insensitive) without blocking. ok is false when the host is full: the delivery
// worker then postpones the delivery instead of waiting, so that one slow flow cannot hold
// every worker while healthy flows wait (SPEC 4.4). After ok is true, release must be
// called once when the attempt is over; further calls do nothing. A failed Acquire returns
// a release that does nothing.
func (c *Client) Acquire(url string) (release func(), ok bool) {
	key := hostKey(url)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inFlight[key] >= c.maxPerHost {
		return func() {}, false
	}
	c.inFlight[key]++
	var once sync.Once
	return func() { once.Do(func() { c.release(key) }) }, true
}

func (c *Client) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inFlight[key]--; c.inFlight[key] <= 0 {
		delete(c.inFlight, key)
	}
}
