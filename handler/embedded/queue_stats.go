package embedded

import (
	"sort"
	"time"
)

// QueueStat is the backlog of one queue.
type QueueStat struct {
	Name string
	// Depth counts the messages not yet completed: ready, in flight, scheduled or backing off.
	Depth int
	// OldestDue is how long the oldest message that is due has been waiting: since it was
	// sent, or since its scheduled time for a scheduled message. Zero when none is due.
	OldestDue time.Duration
}

// Stats reports the backlog of every queue used since the file was opened, by name. It walks
// each queue's index under its lock, so its cost grows with the backlog: it is meant for a
// metrics scrape, not for every message.
func (qs *Queues) Stats() []QueueStat {
	qs.mu.Lock()
	queues := make([]*queue, 0, len(qs.byName))
	for _, q := range qs.byName {
		queues = append(queues, q)
	}
	qs.mu.Unlock()
	now := time.Now().UnixNano()
	out := make([]QueueStat, 0, len(queues))
	for _, q := range queues {
		st := QueueStat{Name: q.name}
		q.mu.Lock()
		if q.idx != nil {
			st.Depth = len(q.idx.entries)
			oldest := now
			for _, e := range q.idx.entries {
				since := max(e.enqueuedAt, e.notBefore)
				if since < oldest {
					oldest = since
				}
			}
			st.OldestDue = time.Duration(now - oldest)
		}
		q.mu.Unlock()
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
