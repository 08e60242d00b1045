package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// addContacts adds the contacts with workers concurrent writers and returns the statuses
// that were not 200, by id.
func addContacts(p *proc, tok, path string, ids []string, workers int) map[string]string {
	var mu sync.Mutex
	bad := map[string]string{}
	next := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				r, err := p.tryCall("POST", path, tok, map[string]string{"externalId": id})
				if err != nil || r.status != 200 {
					mu.Lock()
					bad[id] = fmt.Sprintf("%d %s %v", r.status, r.body, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	return bad
}

func contactIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%05d", prefix, i)
	}
	return ids
}

// 32 concurrent writers of one address book all succeed, on the embedded store and on
// Azure Table Storage: none is turned away as "busy".
func TestEndToEndManyWritersOneBook(t *testing.T) {
	stores := map[string]func(t *testing.T) map[string]string{
		"Embedded": func(t *testing.T) map[string]string { return map[string]string{"NIMBUS_DATA_DIR": t.TempDir()} },
		"Azure": func(t *testing.T) map[string]string {
			return map[string]string{"NIMBUS_STORAGE": azurite(t), "NIMBUS_DEV_AUTH": "true", "NIMBUS_DATA_DIR": t.TempDir()}
		},
	}
	for name, env := range stores {
		t.Run(name, func(t *testing.T) {
			p := start(t, env(t))
			d := p.demo()
			tok := p.token(d.TenantID, d.Users.TenantAdmin)
			path := "/v2/AddressBooks/" + d.AddressBooks[0].ID + "/contacts"
			prefix := "mw-" + uuid.NewString()[:8] + "-"
			ids := contactIDs(prefix, 32*8)
			if bad := addContacts(p, tok, path, ids, 32); len(bad) > 0 {
				for id, why := range bad {
					t.Errorf("add %s: %s", id, why)
					break
				}
				t.Fatalf("%d of %d concurrent adds failed", len(bad), len(ids))
			}
			r := p.call("GET", path, tok, nil)
			if got := strings.Count(string(r.body), `"`+prefix); got != len(ids) {
				t.Errorf("stored %d of the %d contacts", got, len(ids))
			}
		})
	}
}

// kill -9 while a full book is being cleared, then restart: the count is right, so the book
// takes exactly as many new contacts as the clear freed before the kill, without clearing
// it again.
func TestClearSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a book of 3,000 contacts")
	}
	const capacity = 3000
	for try := 1; ; try++ {
		left, ok := killDuringClear(t, capacity)
		if !ok {
			if try == 3 {
				t.Fatalf("the kill never landed during the clear in %d tries", try)
			}
			continue
		}
		t.Logf("killed during clear with %d of %d contacts left", left, capacity)
		return
	}
}

// killDuringClear fills a book, kills the handler in the middle of clearing it, restarts it
// and checks the cap. ok is false when the kill came too late or too early to tell.
func killDuringClear(t *testing.T, capacity int) (left int, ok bool) {
	env := map[string]string{"NIMBUS_DATA_DIR": t.TempDir(), "NIMBUS_MAX_CONTACTS_PER_BOOK": fmt.Sprint(capacity)}
	p := start(t, env)
	d := p.demo()
	tok := p.token(d.TenantID, d.Users.TenantAdmin)
	path := "/v2/AddressBooks/" + d.AddressBooks[0].ID + "/contacts"
	ids := contactIDs("k", capacity)
	if bad := addContacts(p, tok, path, ids, 8); len(bad) > 0 {
		t.Fatalf("%d adds failed while filling the book", len(bad))
	}
	if r := p.call("POST", path, tok, map[string]string{"externalId": "over"}); r.status != 409 {
		t.Fatalf("add to the full book: %d %s, want 409", r.status, r.body)
	}

	go func() { _, _ = p.tryCall("POST", path+"/clear", tok, nil) }()
	// The clear goes in key order: once the first contact is gone, a batch has been applied.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := p.tryCall("GET", path+"?externalIds="+ids[0], tok, nil)
		if err != nil {
			t.Fatalf("get during clear: %v", err)
		}
		if r.status == 200 && string(r.body) == "[]" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the clear removed nothing within 30s")
		}
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()

	p = start(t, env)
	r := p.call("GET", path, tok, nil)
	var stored []map[string]any
	if err := json.Unmarshal(r.body, &stored); err != nil || r.status != 200 {
		t.Fatalf("get all after restart: %d %v", r.status, err)
	}
	left = len(stored)
	if left == 0 || left == capacity {
		return left, false
	}
	if bad := addContacts(p, tok, path, contactIDs("n", capacity-left), 8); len(bad) > 0 {
		for id, why := range bad {
			t.Fatalf("%d of the %d places freed before the kill refused new contacts, e.g. %s: %s", len(bad), capacity-left, id, why)
		}
	}
	if r := p.call("POST", path, tok, map[string]string{"externalId": "over"}); r.status != 409 {
		t.Errorf("add beyond the cap after refilling: %d %s, want 409", r.status, r.body)
	}
	return left, true
}
