package servicebus

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func TestScheduleReturnsSequenceAndCancels(t *testing.T) {
	f := &fakeSender{}
	p, _ := fakePublisher(f)
	q := p.Queue(nimbus.QueueScheduler).(nimbus.ScheduledQueue)
	due := testNow.Add(time.Hour)
	seq, err := q.Schedule(context.Background(), nimbus.Message{ID: "t/fire:e1", Body: []byte(`{}`), NotBefore: due})
	if err != nil || seq != 101 {
		t.Fatalf("Schedule: %d, %v", seq, err)
	}
	if got := f.scheduledAt[0]; !got.Equal(due) {
		t.Errorf("scheduled for %v, want %v", got, due)
	}
	if m := f.scheduled[0]; *m.MessageID != "t/fire:e1" || m.ScheduledEnqueueTime != nil {
		t.Errorf("scheduled message %+v", m)
	}
	// A time that has passed schedules for now.
	if _, err := q.Schedule(context.Background(), nimbus.Message{ID: "t/fire:e2", Body: []byte(`{}`), NotBefore: testNow.Add(-time.Hour)}); err != nil || !f.scheduledAt[1].Equal(testNow) {
		t.Errorf("past schedule: at %v, %v", f.scheduledAt[1], err)
	}
	if err := q.CancelScheduled(context.Background(), seq); err != nil || !slices.Equal(f.cancelled, []int64{101}) {
		t.Errorf("cancel: %v %v", f.cancelled, err)
	}
	if err := q.CancelScheduled(context.Background(), 0); nimbus.KindOf(err) != nimbus.KindInvalid {
		t.Errorf("cancel 0: %v", err)
	}
}

func TestScheduleTranslatesErrors(t *testing.T) {
	f := &fakeSender{sendErr: errors.New("connection reset")}
	p, _ := fakePublisher(f)
	q := p.Queue(nimbus.QueueScheduler).(nimbus.ScheduledQueue)
	if _, err := q.Schedule(context.Background(), nimbus.Message{ID: "x", NotBefore: testNow.Add(time.Minute)}); nimbus.KindOf(err) != nimbus.KindUnavailable {
		t.Errorf("schedule error kind %v", nimbus.KindOf(err))
	}
	if err := q.CancelScheduled(context.Background(), 5); nimbus.KindOf(err) != nimbus.KindUnavailable {
		t.Errorf("cancel error kind %v", nimbus.KindOf(err))
	}
	if _, err := q.Schedule(context.Background(), nimbus.Message{}); nimbus.KindOf(err) != nimbus.KindInvalid {
		t.Errorf("schedule without id: %v", err)
	}
}
