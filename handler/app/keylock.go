package app

import (
	"context"
	"sync"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// keyedMutex serialises work on one key (an address book) within this process, so that
// concurrent writers of one count row take turns instead of failing each other's ETag
// conditions. It holds an entry only while someone holds or waits for the key, so its size
// is bounded by the requests in flight. Writers on other instances still race through ETags,
// which retrying settles.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	held chan struct{} // capacity 1: full while the key is held
	refs int           // holders and waiters
}

// lock waits for the key, or fails with KindUnavailable when ctx ends first. The returned
// function releases it.
func (k *keyedMutex) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyLock)
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{held: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()

	release := func() {
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.held <- struct{}{}:
		return func() { <-l.held; release() }, nil
	case <-ctx.Done():
		release()
		return nil, nimbus.Unavailable("wait for concurrent writers", ctx.Err())
	}
}

// size reports the keys held or waited for, for tests.
func (k *keyedMutex) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.locks)
}

// writeRetryWindow bounds how long a write keeps retrying lost ETag races before it answers
// "busy". A deadline rather than a count of attempts: under heavy contention each attempt
// may lose many times in a row, yet every writer wins within a few round trips of its turn.
const writeRetryWindow = 30 * time.Second

// retrier paces the retries of one write: the first attempt at once, then pause's growing
// random waits, until writeRetryWindow has passed.
type retrier struct {
	deadline time.Time
	attempt  int
}

func newRetrier() *retrier { return &retrier{deadline: time.Now().Add(writeRetryWindow)} }

// next waits before every attempt but the first. It reports false once the window has
// passed, and fails with KindUnavailable when ctx ends.
func (r *retrier) next(ctx context.Context) (bool, error) {
	if r.attempt > 0 && time.Now().After(r.deadline) {
		return false, nil
	}
	if err := pause(ctx, r.attempt); err != nil {
		return false, err
	}
	r.attempt++
	return true, nil
}
