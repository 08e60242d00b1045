package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// BenchmarkQueueSendComplete measures the whole pipeline: concurrent senders, each Send durable
// before it returns, and a consumer completing every message, durably too. msgs/s is b.N over
// the time from the first Send to the last completion; run with a fixed count, e.g.
//
//	go test -run '^$' -bench QueueSendComplete -benchtime 20000x ./handler/embedded/
func BenchmarkQueueSendComplete(b *testing.B) {
	cases := []struct {
		name     string
		senders  int
		perSend  int
		sessions int // 0: no sessions
	}{
		{"senders=32/perSend=1", 32, 1, 0},
		{"senders=32/perSend=1/sessions=100", 32, 1, 100},
		{"senders=4/perSend=1", 4, 1, 0},
		{"senders=8/perSend=10", 8, 10, 0},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			db, err := Open(filepath.Join(b.TempDir(), "nimbus.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			qs := db.Queues(QueueOptions{Logger: slog.New(slog.DiscardHandler)})
			q := qs.Queue("bench")

			n := int64(b.N)
			var completed atomic.Int64
			all := make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			ran := make(chan error, 1)
			go func() {
				ran <- qs.Run(ctx, "bench", func(context.Context, nimbus.Message) error {
					if completed.Add(1) == n {
						close(all)
					}
					return nil
				}, 16)
			}()
			body := []byte(`{"eventId":"00000000-0000-0000-0000-000000000000","type":"TaskUpdated","sequence":1}`)

			writes := pagesWritten(db)
			b.ResetTimer()
			start := time.Now()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range bc.senders {
				wg.Go(func() {
					for {
						first := next.Add(int64(bc.perSend)) - int64(bc.perSend)
						if first >= n {
							return
						}
						var msgs []nimbus.Message
						for i := first; i < min(first+int64(bc.perSend), n); i++ {
							m := nimbus.Message{ID: fmt.Sprint("m-", i), Body: body}
							if bc.sessions > 0 {
								m.SessionID = fmt.Sprint("s-", i%int64(bc.sessions))
							}
							msgs = append(msgs, m)
						}
						if err := q.Send(ctx, msgs...); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			sent := time.Since(start)
			select {
			case <-all:
			case <-time.After(5 * time.Minute):
				b.Fatalf("%d of %d completed", completed.Load(), n)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(n)/sent.Seconds(), "sends/s")
			// Page writes per message (send and completion): what the fsyncs must carry. It
			// depends on how many messages share a commit, not on the disk's speed.
			b.ReportMetric(float64(pagesWritten(db)-writes)/float64(n), "pages/msg")
			cancel()
			if err := <-ran; err != nil {
				b.Fatal(err)
			}
		})
	}
}

// pagesWritten is the number of page writes of the file's committed transactions so far.
func pagesWritten(db *DB) int64 {
	st := db.bolt.Stats()
	return st.TxStats.GetWrite()
}
