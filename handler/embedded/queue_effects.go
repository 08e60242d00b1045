package embedded

import (
	"context"
	"slices"
	"sync"

	"go.etcd.io/bbolt"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Atomic names what a queue's handler writes in the same transaction as the completion of its
// message: its Sends to the named queues and its Insert, Upsert and Update calls on the named
// tables of the same file. While the handler runs they are collected instead of written; once
// it returns nil they are committed with the completion, all of them or none. So the event
// fan-out completes an event, queues its deliveries and writes the task projection in one
// transaction (one fsync), and a crash can never leave one without the others. Deletes are
// collected too; a collected delete of a row that is already gone is not an error.
//
// What a handler sees changes in two ways, which the handlers it is configured for accept:
// a collected write returns an empty ETag, and its condition (row absent for Insert, ETag for
// Update) is checked at completion, where a failure fails the completion, so the message is
// handed out again and the handler runs again on fresh reads. A handler error, or a lock that
// expires, discards everything collected. Batches are never collected.
//
// The IDs of collected Sends are checked against duplicate detection (an ID accepted within
// DuplicateWindow is dropped, as by any Send) but not recorded in it. They need not be: the
// Sends are stored only with the completion of the message whose handler made them, after
// which that handler never runs for it again, so the same Sends cannot come back from it;
// and recording them would write one randomly placed key per message, the most expensive
// write of a Send. A handler under a rule must therefore derive its Sends' IDs from the
// message it handles (as the event fan-out does), so that no other path sends them.
type Atomic struct {
	Queues []string
	Tables []string
}

// effects is what one handler call collected under an Atomic rule.
type effects struct {
	qs   *Queues
	rule Atomic

	mu     sync.Mutex
	sends  []*sendOp
	writes []effectWrite
}

type effectWrite struct {
	table []byte
	pk    string
	op    nimbus.BatchOp
}

type effectsKey struct{}

// effectsFor returns the collector of ctx when it covers writes to this file; nil otherwise.
func effectsFor(ctx context.Context, bolt *bbolt.DB) *effects {
	fx, _ := ctx.Value(effectsKey{}).(*effects)
	if fx == nil || fx.qs.bolt != bolt {
		return nil
	}
	return fx
}

// collectSend takes a validated Send to the named queue if the rule covers it.
func (fx *effects) collectSend(q *queue, msgs []nimbus.Message) bool {
	if !slices.Contains(fx.rule.Queues, q.name) {
		return false
	}
	fx.mu.Lock()
	defer fx.mu.Unlock()
	fx.sends = append(fx.sends, &sendOp{q: q, msgs: slices.Clone(msgs), window: int64(fx.qs.opts.DuplicateWindow), result: make(chan error, 1), unrecorded: true})
	return true
}

// collectBatch takes a validated batch to the named table if the rule covers it. Its
// operations join the single-entity writes in the order they were made, so a row written in
// parts (parts, then the row that names them, then the old parts' removal) is never seen half
// replaced and never left pointing at removed parts.
func (fx *effects) collectBatch(table []byte, pk string, ops []nimbus.BatchOp) bool {
	if !slices.Contains(fx.rule.Tables, string(table)) {
		return false
	}
	fx.mu.Lock()
	defer fx.mu.Unlock()
	for _, op := range ops {
		op.Data = slices.Clone(op.Data)
		fx.writes = append(fx.writes, effectWrite{table: table, pk: pk, op: op})
	}
	return true
}

// collectWrite takes a validated single-entity write to the named table if the rule covers it.
func (fx *effects) collectWrite(table []byte, e nimbus.Entity, kind nimbus.BatchOpKind) bool {
	if !slices.Contains(fx.rule.Tables, string(table)) {
		return false
	}
	fx.mu.Lock()
	defer fx.mu.Unlock()
	fx.writes = append(fx.writes, effectWrite{table: table, pk: e.PartitionKey, op: nimbus.BatchOp{Kind: kind, RowKey: e.RowKey, Data: slices.Clone(e.Data), IfMatch: e.ETag}})
	return true
}

// apply writes everything collected inside tx.
func (fx *effects) apply(tx *bbolt.Tx, now int64) error {
	for _, s := range fx.sends {
		if err := s.apply(tx, now); err != nil {
			return err
		}
	}
	for _, w := range fx.writes {
		b, err := tx.Bucket(bucketTables).CreateBucketIfNotExists(w.table)
		if err != nil {
			return err
		}
		if w.op.Kind == nimbus.BatchDelete && b.Get(entityKey(w.pk, w.op.RowKey)) == nil {
			continue
		}
		if _, err := apply(b, w.pk, w.op); err != nil {
			return err
		}
	}
	return nil
}

// committed makes the collected sends visible to their consumers, once the file has them.
func (fx *effects) committed(now int64) {
	for _, s := range fx.sends {
		s.done(nil, now)
	}
}

func (fx *effects) size() int {
	n := 0
	for _, s := range fx.sends {
		n += s.size()
	}
	for _, w := range fx.writes {
		n += len(w.op.Data) + recordOverhead
	}
	return n
}
