package webhook

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestAcquire(t *testing.T) {
	c := New(Config{MaxPerHost: 2})
	const url = "https://a.logic.azure.com/workflows/1/run?sig=x"
	r1, ok1 := c.Acquire(url)
	r2, ok2 := c.Acquire("https://A.LOGIC.azure.com:443/workflows/2/run?sig=y") // same host:port
	_, ok3 := c.Acquire(url)
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("three acquires: got %v %v %v, want true true false", ok1, ok2, ok3)
	}
	tests := []struct {
		name string
		url  string
		want bool
	}{
		{"other host", "https://b.logic.azure.com/run", true},
		{"other port of the same host", "https://a.logic.azure.com:8443/run", true},
		{"full host", url, false},
	}
	for _, tt := range tests {
		release, ok := c.Acquire(tt.url)
		if ok != tt.want {
			t.Errorf("%s: got ok %v, want %v", tt.name, ok, tt.want)
		}
		release()
	}
	r1()
	r1() // a second call must not free another request's slot
	r4, ok4 := c.Acquire(url)
	if !ok4 {
		t.Fatal("after a release: got ok false, want true")
	}
	if _, ok := c.Acquire(url); ok {
		t.Error("double release freed two slots: got ok true, want false")
	}
	r2()
	r4()
	c.mu.Lock()
	left := len(c.inFlight)
	c.mu.Unlock()
	if left != 0 {
		t.Errorf("slot entries after all releases: got %d, want 0", left)
	}
}

func TestAcquireConcurrent(t *testing.T) {
	const limit = 3
	c := New(Config{MaxPerHost: limit})
	var inUse, peak atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 200 {
				release, ok := c.Acquire("https://a.logic.azure.com/run")
				if !ok {
					continue
				}
				n := inUse.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				inUse.Add(-1)
				release()
			}
		})
	}
	wg.Wait()
	if got := peak.Load(); got > limit || got < 1 {
		t.Errorf("peak concurrent slots: got %d, want 1..%d", got, limit)
	}
}

func TestAcquireSlowKeepsHalfOfAHostForOthers(t *testing.T) {
	c := New(Config{MaxPerHost: 4})
	const url = "https://prod-01.westeurope.logic.azure.com/workflows/1/run?sig=x"
	s1, ok1 := c.AcquireSlow(url)
	_, ok2 := c.AcquireSlow("https://prod-01.westeurope.logic.azure.com/workflows/2/run?sig=y")
	_, ok3 := c.AcquireSlow(url)
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("three slow acquires of 4 slots: got %v %v %v, want true true false", ok1, ok2, ok3)
	}
	if _, ok := c.AcquireSlow("https://prod-02.westeurope.logic.azure.com/run"); !ok {
		t.Error("the share is per host: another host refused a slow attempt")
	}
	r1, ok4 := c.Acquire(url)
	_, ok5 := c.Acquire(url)
	if !ok4 || !ok5 {
		t.Fatalf("healthy attempts while slow ones hold half: got %v %v, want true true", ok4, ok5)
	}
	if _, ok := c.Acquire(url); ok {
		t.Error("the host cap still bounds everything: got a fifth slot")
	}
	r1()
	if _, ok := c.AcquireSlow(url); ok {
		t.Error("a healthy slot freed, but the slow share is still full: got a slow slot")
	}
	s1()
	if _, ok := c.AcquireSlow(url); !ok {
		t.Error("after a slow release: no slow slot")
	}
}
