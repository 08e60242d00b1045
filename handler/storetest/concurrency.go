package storetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// testConcurrentIncrements runs ETag-guarded read-modify-write increments from several
// goroutines on one counter: optimistic concurrency must lose no update.
func testConcurrentIncrements(t *testing.T, ts nimbus.Tables) {
	const workers, increments = 8, 10
	tb := ts.Table(TableA)
	ctx := t.Context()
	pk := partition(t, "p")
	mustInsert(t, tb, pk, "counter", []byte("0"))

	increment := func() error {
		for attempt := 0; attempt < 1000; attempt++ {
			e, err := tb.Get(ctx, pk, "counter")
			if err != nil {
				return fmt.Errorf("get: %w", err)
			}
			n, err := strconv.Atoi(string(e.Data))
			if err != nil {
				return fmt.Errorf("counter holds %q", e.Data)
			}
			e.Data = []byte(strconv.Itoa(n + 1))
			_, err = tb.Update(ctx, e)
			if errors.Is(err, nimbus.ErrConflict) {
				continue
			}
			if err != nil {
				return fmt.Errorf("update: %w", err)
			}
			return nil
		}
		return errors.New("no progress after 1000 attempts")
	}

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range increments {
				if err := increment(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("increment: %v", err)
	}
	wantEntity(t, tb, pk, "counter", []byte(strconv.Itoa(workers*increments)), "")
}

// testConcurrentInserts races inserts of one row: exactly one wins.
func testConcurrentInserts(t *testing.T, ts nimbus.Tables) {
	const workers = 8
	tb := ts.Table(TableA)
	pk := partition(t, "p")
	var wg sync.WaitGroup
	results := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			_, results[i] = tb.Insert(t.Context(), nimbus.Entity{PartitionKey: pk, RowKey: "r", Data: []byte(strconv.Itoa(i))})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("inserts %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		default:
			wantKind(t, fmt.Sprintf("insert %d", i), err, nimbus.KindConflict)
		}
	}
	if winner < 0 {
		t.Fatal("no insert succeeded")
	}
	wantEntity(t, tb, pk, "r", []byte(strconv.Itoa(winner)), "")
}
