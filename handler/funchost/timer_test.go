package funchost

import (
	"strings"
	"testing"
	"time"
)

func TestTimerGolden(t *testing.T) {
	tests := []struct {
		file string
		want TimerInfo
	}{
		{
			file: "timer.json",
			want: TimerInfo{
				IsPastDue: false,
				Schedule:  struct{ AdjustForDST bool }{AdjustForDST: true},
				ScheduleStatus: &ScheduleStatus{
					Last:        time.Date(2025, 3, 14, 9, 25, 0, 3124500, time.UTC),
					Next:        time.Date(2025, 3, 14, 9, 27, 0, 0, time.UTC),
					LastUpdated: time.Date(2025, 3, 14, 9, 26, 0, 12773100, time.UTC),
				},
			},
		},
		{
			file: "timer_null_status.json",
			want: TimerInfo{IsPastDue: true, Schedule: struct{ AdjustForDST bool }{AdjustForDST: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := goldenInvocation(t, tt.file, "SchedulerSweep").Timer("timer")
			if err != nil {
				t.Fatalf("Timer: %v", err)
			}
			assertTimer(t, got, tt.want)
		})
	}
}

func assertTimer(t *testing.T, got, want TimerInfo) {
	t.Helper()
	if got.IsPastDue != want.IsPastDue {
		t.Errorf("IsPastDue: got %v, want %v", got.IsPastDue, want.IsPastDue)
	}
	if got.Schedule != want.Schedule {
		t.Errorf("Schedule: got %+v, want %+v", got.Schedule, want.Schedule)
	}
	if (got.ScheduleStatus == nil) != (want.ScheduleStatus == nil) {
		t.Fatalf("ScheduleStatus: got %+v, want %+v", got.ScheduleStatus, want.ScheduleStatus)
	}
	if want.ScheduleStatus == nil {
		return
	}
	g, w := got.ScheduleStatus, want.ScheduleStatus
	for _, c := range []struct {
		field     string
		got, want time.Time
	}{{"Last", g.Last, w.Last}, {"Next", g.Next, w.Next}, {"LastUpdated", g.LastUpdated, w.LastUpdated}} {
		if !c.got.Equal(c.want) || c.got.Location() != time.UTC {
			t.Errorf("ScheduleStatus.%s: got %v, want %v", c.field, c.got, c.want)
		}
	}
}

func TestTimerVariants(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    TimerInfo
		wantErr string
	}{
		{
			name:    "missing binding",
			payload: `{"Data":{},"Metadata":{}}`,
			wantErr: `timer binding "timer": missing`,
		},
		{
			name:    "not an object",
			payload: `{"Data":{"timer":[1]},"Metadata":{}}`,
			wantErr: `timer binding "timer"`,
		},
		{
			name:    "bad time",
			payload: `{"Data":{"timer":{"ScheduleStatus":{"Last":"later"}}},"Metadata":{}}`,
			wantErr: `timer binding "timer"`,
		},
		{
			name: "serialized into a string, times without offset",
			payload: `{"Data":{"timer":"{\"Schedule\":{\"AdjustForDST\":false},\"IsPastDue\":true,` +
				`\"ScheduleStatus\":{\"Last\":\"2025-03-14T09:25:00\",\"Next\":\"2025-03-14T09:26:00\",` +
				`\"LastUpdated\":\"0001-01-01T00:00:00\"}}"},"Metadata":{}}`,
			want: TimerInfo{IsPastDue: true, ScheduleStatus: &ScheduleStatus{
				Last:        time.Date(2025, 3, 14, 9, 25, 0, 0, time.UTC),
				Next:        time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC),
				LastUpdated: time.Time{}.UTC(),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := ParseInvocation("SchedulerSweep", "", []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			got, err := inv.Timer("timer")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			assertTimer(t, got, tt.want)
		})
	}
}
