package nimbus

import (
	"fmt"
	"time"
)

// StatusAt answers the calendar's status at the instant t (SPEC 6.2); a nil calendar answers
// StatusNone. It is a pure function of the calendar and t: the zone rules come from the time
// zone database (embedded in the binary), so daylight-saving changes follow TimeZone.
//
// The rules, with t seen as a local date and wall-clock time in TimeZone:
//   - A date inside a special day's range is governed by that special day, all day: the
//     status is its Kind inside one of its ranges, else Closed.
//   - Else a date inside a holiday is governed by the holiday, all day: Holiday.
//   - Else the date is ordinary: Open inside one of its weekday's ranges, else Closed.
//   - A range that runs past midnight belongs to the day it starts on. Its part after
//     midnight counts only where that day's rule reaches: into an ordinary next day (where
//     it keeps its own status: Open for a weekly range, the Kind for a special day's range),
//     or into the next date of the same special day. A holiday or a different special day
//     on the next date governs that date from midnight on, and a day that is itself a
//     holiday or special day does not run its weekly ranges on into the next day.
//
// Ranges include their start and exclude their end, to the second. Wall-clock times that a
// daylight-saving change skips never occur; those it repeats occur twice with one status.
// StatusAt fails for a time zone or date that Validate would refuse, and ignores a time
// range it would refuse.
func (c *Calendar) StatusAt(t time.Time) (OpeningStatus, error) {
	if c == nil {
		return StatusNone, nil
	}
	loc, err := LoadZone(c.TimeZone)
	if err != nil {
		return "", fmt.Errorf("evaluate calendar: %w", err)
	}
	local := t.In(loc)
	y, m, d := local.Date()
	// The previous date is computed in UTC: in local time, midnight may not exist.
	prev := time.Date(y, m, d-1, 12, 0, 0, 0, time.UTC)
	sec := local.Hour()*3600 + local.Minute()*60 + local.Second()

	today, err := c.rule(dateOf(y, m, d), local.Weekday())
	if err != nil {
		return "", err
	}
	yesterday, err := c.rule(dateOf(prev.Date()), prev.Weekday())
	if err != nil {
		return "", err
	}
	if today.kind == ruleHoliday {
		return StatusHoliday, nil
	}
	if startedIn(today.ranges, sec) {
		return today.status, nil
	}
	spills := today.kind == ruleWeekly || (today.kind == ruleSpecial && yesterday.kind == ruleSpecial && yesterday.special == today.special)
	if spills && runsOnInto(yesterday.ranges, sec) {
		return yesterday.status, nil
	}
	return StatusClosed, nil
}

type ruleKind int

const (
	ruleWeekly ruleKind = iota
	ruleHoliday
	ruleSpecial
)

// dayRule is what governs one local date: its kind, the status inside its ranges, and the
// ranges that start on it.
type dayRule struct {
	kind    ruleKind
	special int // index of the special day, for ruleSpecial
	status  OpeningStatus
	ranges  []TimeRange
}

func (c *Calendar) rule(d date, wd time.Weekday) (dayRule, error) {
	for i := range c.SpecialDays {
		s := &c.SpecialDays[i]
		in, err := within(d, s.From, s.To)
		if err != nil {
			return dayRule{}, fmt.Errorf("evaluate calendar: special day %d: %w", i, err)
		}
		if in {
			return dayRule{kind: ruleSpecial, special: i, status: s.Kind, ranges: s.Ranges}, nil
		}
	}
	for i := range c.Holidays {
		h := &c.Holidays[i]
		in, err := within(d, h.From, h.To)
		if err != nil {
			return dayRule{}, fmt.Errorf("evaluate calendar: holiday %d: %w", i, err)
		}
		if in {
			return dayRule{kind: ruleHoliday, status: StatusHoliday}, nil
		}
	}
	return dayRule{kind: ruleWeekly, status: StatusOpen, ranges: c.Weekly.Day(wd)}, nil
}

// within reports whether d is between the dates from and to, both included; an empty to is
// the single day from.
func within(d date, from, to string) (bool, error) {
	f, ok := parseDate(from)
	if !ok {
		return false, fmt.Errorf("bad date %q", from)
	}
	t := f
	if to != "" {
		if t, ok = parseDate(to); !ok {
			return false, fmt.Errorf("bad date %q", to)
		}
	}
	return f <= d && d <= t, nil
}

// startedIn reports whether sec (seconds after local midnight) lies in one of the ranges
// that start on this day; a range past midnight covers the rest of the day from its start.
func startedIn(ranges []TimeRange, sec int) bool {
	for _, r := range ranges {
		from, to, ok := bounds(r)
		if ok && from <= sec && (sec < to || to <= from) {
			return true
		}
	}
	return false
}

// runsOnInto reports whether sec lies in the after-midnight part of one of the ranges that
// started the day before.
func runsOnInto(ranges []TimeRange, sec int) bool {
	for _, r := range ranges {
		from, to, ok := bounds(r)
		if ok && to <= from && sec < to {
			return true
		}
	}
	return false
}

func bounds(r TimeRange) (from, to int, ok bool) {
	from, ok1 := clock(r.From)
	to, ok2 := clock(r.To)
	return from, to, ok1 && ok2
}
