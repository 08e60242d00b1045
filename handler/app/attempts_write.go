package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

const (
	// attemptWriteTimeout bounds one flush, so a storage outage cannot hold the writer forever.
	attemptWriteTimeout = 30 * time.Second
	// attemptWriters is how many batches one flush writes at once.
	attemptWriters = 8
)

// run is the writer: it collects records for attemptFlushEvery (or until the buffer holds a
// batch's worth), writes them in one batch per subscription, and trims what grew too long.
func (l *AttemptLog) run() {
	defer close(l.stopped)
	flush := time.NewTicker(attemptFlushEvery)
	defer flush.Stop()
	sweep := time.NewTicker(attemptSweepEvery)
	defer sweep.Stop()
	var pending []pendingAttempt
	for {
		select {
		case p := <-l.ch:
			pending = append(pending, p)
			if len(pending) < attemptBuffer {
				continue
			}
		case <-flush.C:
		case <-sweep.C:
			l.sweepAll()
			continue
		case <-l.stop:
			for {
				select {
				case p := <-l.ch:
					pending = append(pending, p)
					continue
				default:
				}
				break
			}
			l.write(pending)
			return
		}
		l.write(pending)
		pending = pending[:0]
	}
}

// write stores the records, one batch per partition (and per MaxBatch records).
func (l *AttemptLog) write(pending []pendingAttempt) {
	if len(pending) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), attemptWriteTimeout)
	defer cancel()
	byPartition := map[string][]nimbus.BatchOp{}
	var order []string
	for _, p := range pending {
		if p.rec.Event == "" && len(p.payload) > 0 {
			var ref struct {
				Event string `json:"event"`
			}
			if json.Unmarshal(p.payload, &ref) == nil {
				p.rec.Event = ref.Event
			}
		}
		data, err := json.Marshal(p.rec)
		if err != nil {
			continue
		}
		pk := attemptPartition(p.tenant, p.subscription)
		if _, ok := byPartition[pk]; !ok {
			order = append(order, pk)
		}
		byPartition[pk] = append(byPartition[pk], nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: attemptRowKey(p.rec.Time, p.rec.AttemptID), Data: data})
	}
	for _, pk := range order {
		if err := l.register(ctx, pk); err != nil {
			l.log.Warn("delivery log not written", "err", err)
			return
		}
	}
	// All chunks are written at once: the embedded store merges concurrent batches into one
	// transaction, and Azure serves them in parallel.
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, attemptWriters)
		errs = make(chan error, 1)
	)
	for _, pk := range order {
		ops := byPartition[pk]
		// Records beyond the bound would be trimmed at once: only the newest are written.
		if len(ops) > AttemptLogPerSubscription {
			ops = ops[len(ops)-AttemptLogPerSubscription:]
		}
		l.sinceTrim[pk] += len(ops)
		for len(ops) > 0 {
			n := min(len(ops), nimbus.MaxBatch)
			chunk := ops[:n]
			ops = ops[n:]
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := l.table.Batch(ctx, pk, chunk); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}()
		}
	}
	wg.Wait()
	select {
	case err := <-errs:
		l.log.Warn("delivery log not written", "records", len(pending), "err", err)
	default:
	}
	for _, pk := range order {
		if l.sinceTrim[pk] >= attemptTrimEvery {
			if err := l.trim(ctx, pk); err != nil {
				l.log.Warn("delivery log not trimmed", "err", err)
			}
		}
	}
}

// register lists the partition in attemptPartitions (once per process), so the sweep finds
// it.
func (l *AttemptLog) register(ctx context.Context, pk string) error {
	if l.known[pk] {
		return nil
	}
	if _, err := l.table.Upsert(ctx, nimbus.Entity{PartitionKey: attemptPartitions, RowKey: pk, Data: []byte("{}")}); err != nil {
		return fmt.Errorf("register delivery log partition: %w", err)
	}
	l.known[pk] = true
	return nil
}

// trim deletes the partition's rows past AttemptLogPerSubscription or older than
// AttemptLogKeep.
func (l *AttemptLog) trim(ctx context.Context, pk string) error {
	_, err := l.trimPartition(ctx, pk)
	return err
}

// trimPartition is trim that also reports whether the partition is now empty.
func (l *AttemptLog) trimPartition(ctx context.Context, pk string) (empty bool, err error) {
	delete(l.sinceTrim, pk)
	cutoff := l.now().Add(-AttemptLogKeep)
	kept := 0
	var doomed []nimbus.BatchOp
	err = eachEntity(ctx, l.table, pk, "", func(e nimbus.Entity) error {
		if kept < AttemptLogPerSubscription && attemptRowTime(e.RowKey).After(cutoff) {
			kept++
			return nil
		}
		doomed = append(doomed, nimbus.BatchOp{Kind: nimbus.BatchDelete, RowKey: e.RowKey})
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("list delivery log: %w", err)
	}
	for len(doomed) > 0 {
		n := min(len(doomed), nimbus.MaxBatch)
		if err := l.table.Batch(ctx, pk, doomed[:n]); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
			return false, fmt.Errorf("trim delivery log: %w", err)
		}
		doomed = doomed[n:]
	}
	return kept == 0, nil
}

// sweepAll trims every partition listed in attemptPartitions and forgets those left empty.
func (l *AttemptLog) sweepAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*attemptWriteTimeout)
	defer cancel()
	var pks []string
	if err := eachEntity(ctx, l.table, attemptPartitions, "", func(e nimbus.Entity) error {
		pks = append(pks, e.RowKey)
		return nil
	}); err != nil {
		l.log.Warn("delivery log sweep failed", "err", err)
		return
	}
	for _, pk := range pks {
		empty, err := l.trimPartition(ctx, pk)
		if err != nil {
			l.log.Warn("delivery log sweep failed", "err", err)
			return
		}
		if empty {
			if err := l.table.Delete(ctx, attemptPartitions, pk, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
				l.log.Warn("delivery log sweep failed", "err", err)
				return
			}
			delete(l.known, pk)
		}
	}
}
