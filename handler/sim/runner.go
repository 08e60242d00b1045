package sim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"slices"
	"sync"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Config is what one simulator run needs.
type Config struct {
	Client    *Client
	TenantID  string
	Seed      int64
	RunID     string  // prefix of task ids, so that runs against one handler do not collide
	Rate      float64 // new inbound tasks per minute, per service
	TotalRate float64 // new inbound tasks per minute across all services (overrides Rate)
	Speed     float64 // model time runs this many times faster than the wall clock
	Odds      Odds
	Attempts  AttemptOdds
	Duration  time.Duration // stop new tasks after this long (0: until ctx ends)
	// Summary is how often the live summary line is written (0: never).
	Summary  time.Duration
	Out      io.Writer
	Log      *slog.Logger
	Accepted Accepted // optional: told about every acknowledged batch
}

// Sim is one simulator run.
type Sim struct {
	cfg      Config
	model    Model
	services map[string]Service // every service by UPN (outbound commands name any)
	inbound  []Service
	stats    Stats
	send     *sender

	mu     sync.Mutex
	tasks  map[string]*liveTask
	seen   map[string]bool // command ids already handled
	closed bool            // no more commands are taken
	wg     sync.WaitGroup
	hurry  chan struct{} // closed when tasks must finish at once
}

// liveTask is a running task that commands can reach.
type liveTask struct {
	updates chan nimbus.Command
	remove  chan struct{}
	once    sync.Once
}

// New prepares a run from the tenant's directory.
func New(cfg Config, dir nimbus.Directory) (*Sim, error) {
	if cfg.Speed <= 0 {
		cfg.Speed = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	s := &Sim{cfg: cfg, services: map[string]Service{}, tasks: map[string]*liveTask{}, seen: map[string]bool{}, hurry: make(chan struct{})}
	var users []string
	for _, u := range dir.Users {
		users = append(users, u.UPN)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("the directory of tenant %s has no users to connect tasks to", dir.TenantID)
	}
	for _, svc := range dir.Services {
		m := Service{ID: svc.ID, UPN: svc.UPN, TelNumber: svc.TelNumber, VA: svc.VirtualAssistantEnabled}
		for _, mod := range svc.Modalities {
			if mod != nimbus.ModalityExternalTask {
				m.Modalities = append(m.Modalities, mod)
			}
		}
		s.services[svc.UPN] = m
		if svc.WorkflowValid && len(m.Modalities) > 0 {
			s.inbound = append(s.inbound, m)
		}
	}
	if len(s.inbound) == 0 {
		return nil, fmt.Errorf("tenant %s has no service with a valid workflow and an inbound modality", dir.TenantID)
	}
	s.model = Model{Odds: cfg.Odds, Services: s.inbound, Users: users, Start: time.Now()}
	s.send = newSender(cfg.Client, &s.stats, cfg.Log, cfg.Accepted)
	return s, nil
}

// Stats are the run's counters.
func (s *Sim) Stats() *Stats { return &s.stats }

// Services are the inbound services traffic is generated for.
func (s *Sim) Services() []Service { return slices.Clone(s.inbound) }

// Run generates traffic until ctx ends or Duration has passed. After Duration, the running
// tasks finish their plans; when ctx ends, they are terminated at once. Either way the
// queued events are sent (for up to flush) before Run returns.
func (s *Sim) Run(ctx context.Context, flush time.Duration) {
	began := time.Now()
	sendCtx, stopSend := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSend()
	sent := make(chan struct{})
	go func() { s.send.run(sendCtx); close(sent) }()

	arrivals, stopArrivals := context.WithCancel(ctx)
	if s.cfg.Duration > 0 {
		arrivals, stopArrivals = context.WithTimeout(ctx, s.cfg.Duration)
	}
	defer stopArrivals()
	go func() { <-ctx.Done(); close(s.hurry) }()
	var gen sync.WaitGroup
	rate := s.cfg.Rate
	if s.cfg.TotalRate > 0 {
		rate = s.cfg.TotalRate / float64(len(s.inbound))
	}
	for i, svc := range s.inbound {
		gen.Add(1)
		go func() { defer gen.Done(); s.arrive(arrivals, i, svc, rate) }()
	}
	ticker := time.NewTicker(max(s.cfg.Summary, time.Second))
	defer ticker.Stop()
loop:
	for {
		select {
		case <-arrivals.Done():
			break loop
		case <-ticker.C:
			if s.cfg.Summary > 0 {
				fmt.Fprintln(s.cfg.Out, s.stats.Line(time.Since(began)))
			}
		}
	}
	gen.Wait()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-ticker.C:
			if s.cfg.Summary > 0 {
				fmt.Fprintln(s.cfg.Out, s.stats.Line(time.Since(began)))
			}
		}
	}
	close(s.send.in)
	select {
	case <-sent:
	case <-time.After(flush):
		stopSend()
		<-sent
		s.cfg.Log.Warn("the simulator stopped before all events were sent", "flush", flush)
	}
	s.stats.Tally(s.cfg.Out, time.Since(began))
}

// arrive starts tasks of one service at Poisson arrival times.
func (s *Sim) arrive(ctx context.Context, i int, svc Service, perMinute float64) {
	if perMinute <= 0 {
		return
	}
	rng := rand.New(rand.NewSource(s.cfg.Seed*1_000_003 + int64(i)))
	mean := time.Duration(float64(time.Minute) / perMinute)
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(rng.ExpFloat64() * float64(mean))):
		}
		taskRng := rand.New(rand.NewSource(rng.Int63()))
		id := fmt.Sprintf("%s-%s-%06d", s.cfg.RunID, svc.ID, n)
		plan := s.model.Inbound(taskRng, id, svc)
		s.start(plan, taskRng)
	}
}

// start runs a plan in its own goroutine.
func (s *Sim) start(p Plan, rng *rand.Rand) {
	lt := &liveTask{updates: make(chan nimbus.Command, 4), remove: make(chan struct{})}
	s.mu.Lock()
	s.tasks[p.TaskID] = lt
	s.mu.Unlock()
	s.stats.TasksStarted.Add(1)
	s.stats.TasksRunning.Add(1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.stats.TasksRunning.Add(-1)
		defer func() { s.mu.Lock(); delete(s.tasks, p.TaskID); s.mu.Unlock() }()
		s.play(p, lt, rng)
	}()
}

// sleep waits model time d; it returns false when the task must end at once.
func (s *Sim) sleep(d time.Duration, lt *liveTask) bool {
	t := time.NewTimer(time.Duration(float64(d) / s.cfg.Speed))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.hurry:
		return false
	case <-lt.remove:
		return false
	}
}
