package nimbus

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func r(from, to string) TimeRange { return TimeRange{From: from, To: to} }

// zurich is the calendar most cases use. 2027-03-28 and 2027-10-31 are the Sundays of the
// daylight-saving changes in Europe/Zurich (CET +01:00 ⇄ CEST +02:00, at 01:00 UTC).
func zurich() *Calendar {
	return &Calendar{
		TimeZone: "Europe/Zurich",
		Weekly: Weekly{
			Monday:    []TimeRange{r("08:00", "12:00"), r("13:00", "17:00")},
			Wednesday: []TimeRange{r("08:00", "17:00")},
			Thursday:  []TimeRange{r("08:00", "17:00")},
			Friday:    []TimeRange{r("08:00", "17:00")},
			Saturday:  []TimeRange{r("22:00", "02:00")},
		},
	}
}

func TestCalendarStatusAt(t *testing.T) {
	with := func(edit func(c *Calendar)) *Calendar {
		c := zurich()
		edit(c)
		return c
	}
	sundays := with(func(c *Calendar) {
		c.Weekly.Sunday = []TimeRange{r("01:00", "04:00")}
	})
	fallBack := with(func(c *Calendar) {
		c.Weekly.Saturday = []TimeRange{r("22:00", "02:30")}
		c.Weekly.Sunday = []TimeRange{r("02:40", "02:50")}
	})
	newYork := &Calendar{TimeZone: "America/New_York", Weekly: Weekly{Monday: []TimeRange{r("09:00", "17:00")}}}
	holidays := with(func(c *Calendar) {
		c.Holidays = []Holiday{{Name: "New Year", From: "2027-01-01", To: "2027-01-02"}, {Name: "Sunday off", From: "2027-03-07", To: "2027-03-07"}}
	})
	christmas := with(func(c *Calendar) {
		c.Holidays = []Holiday{{Name: "Christmas", From: "2027-12-24", To: "2027-12-26"}}
		c.SpecialDays = []SpecialDay{{Name: "Christmas Eve hotline", Kind: StatusSpecial3, From: "2027-12-24", To: "2027-12-24", Ranges: []TimeRange{r("09:00", "12:00")}}}
	})
	specials := with(func(c *Calendar) {
		c.SpecialDays = []SpecialDay{
			{Name: "Sunday special", Kind: StatusSpecial, From: "2027-03-07", Ranges: []TimeRange{r("00:30", "01:00")}},
			{Name: "Night shift", Kind: StatusSpecial2, From: "2027-03-03", To: "2027-03-03", Ranges: []TimeRange{r("20:00", "03:00")}},
			{Name: "Inventory", Kind: StatusSpecial4, From: "2027-03-15", To: "2027-03-16", Ranges: []TimeRange{r("22:00", "01:00")}},
			{Name: "Before", Kind: StatusSpecial, From: "2027-03-19", Ranges: []TimeRange{r("22:00", "02:00")}},
			{Name: "After", Kind: StatusSpecial2, From: "2027-03-20", Ranges: []TimeRange{r("10:00", "11:00")}},
			{Name: "Closed all day", Kind: StatusSpecial3, From: "2027-03-22"},
		}
	})
	santiago := &Calendar{TimeZone: "America/Santiago", Weekly: Weekly{Saturday: []TimeRange{r("22:00", "01:30"), r("23:00", "00:00")}}}
	toMidnight := &Calendar{TimeZone: "Europe/Zurich", Weekly: Weekly{Saturday: []TimeRange{r("22:00", "00:00")}, Sunday: []TimeRange{r("00:30", "01:00")}}}
	yearEnd := with(func(c *Calendar) {
		c.Holidays = []Holiday{{Name: "Turn of the year", From: "2027-12-31", To: "2028-01-01"}, {Name: "Leap day", From: "2028-02-29"}}
	})
	allDay := &Calendar{TimeZone: "UTC", Weekly: Weekly{Wednesday: []TimeRange{r("00:00", "00:00")}, Friday: []TimeRange{r("08:00", "08:00")}}}

	tests := []struct {
		name string
		cal  *Calendar
		at   string
		want OpeningStatus
	}{
		{"no calendar", nil, "2027-03-01T09:00:00Z", StatusNone},
		{"monday morning", zurich(), "2027-03-01T09:00:00+01:00", StatusOpen},
		{"last second of the morning", zurich(), "2027-03-01T11:59:59+01:00", StatusOpen},
		{"end of a range is closed", zurich(), "2027-03-01T12:00:00+01:00", StatusClosed},
		{"afternoon", zurich(), "2027-03-01T13:00:00+01:00", StatusOpen},
		{"before opening", zurich(), "2027-03-01T07:59:59+01:00", StatusClosed},
		{"day without ranges", zurich(), "2027-03-02T10:00:00+01:00", StatusClosed},
		{"same instant in another offset", zurich(), "2027-03-01T17:00:00+09:00", StatusOpen},

		{"winter time: 06:30Z is 07:30 local", zurich(), "2027-03-22T06:30:00Z", StatusClosed},
		{"summer time: 06:30Z is 08:30 local", zurich(), "2027-03-29T06:30:00Z", StatusOpen},
		{"summer time: 15:30Z is 17:30 local", zurich(), "2027-03-29T15:30:00Z", StatusClosed},
		{"spring forward: 01:30 CET", sundays, "2027-03-28T00:30:00Z", StatusOpen},
		{"spring forward: 03:30 CEST", sundays, "2027-03-28T01:30:00Z", StatusOpen},
		{"spring forward: 04:00 CEST ends the range", sundays, "2027-03-28T02:00:00Z", StatusClosed},
		{"spring forward: overnight range, 01:59:59 CET", zurich(), "2027-03-28T00:59:59Z", StatusOpen},
		{"spring forward: overnight range, 03:00 CEST", zurich(), "2027-03-28T01:00:00Z", StatusClosed},
		{"fall back: overnight range, first 02:15", fallBack, "2027-10-31T00:15:00Z", StatusOpen},
		{"fall back: overnight range, second 02:15", fallBack, "2027-10-31T01:15:00Z", StatusOpen},
		{"fall back: overnight range ends at 02:30 CET", fallBack, "2027-10-31T01:30:00Z", StatusClosed},
		{"fall back: first 02:45 (CEST)", fallBack, "2027-10-31T00:45:00Z", StatusOpen},
		{"fall back: second 02:45 (CET)", fallBack, "2027-10-31T01:45:00Z", StatusOpen},
		{"fall back: 02:55 CET", fallBack, "2027-10-31T01:55:00Z", StatusClosed},
		{"New York: 13:30Z is 09:30 EDT", newYork, "2027-03-15T13:30:00Z", StatusOpen},
		{"New York: 13:30Z was 08:30 EST", newYork, "2027-03-08T13:30:00Z", StatusClosed},

		{"overnight: before start", zurich(), "2027-03-06T21:59:59+01:00", StatusClosed},
		{"overnight: start day", zurich(), "2027-03-06T23:00:00+01:00", StatusOpen},
		{"overnight: after midnight", zurich(), "2027-03-07T01:00:00+01:00", StatusOpen},
		{"overnight: last second", zurich(), "2027-03-07T01:59:59+01:00", StatusOpen},
		{"overnight: end", zurich(), "2027-03-07T02:00:00+01:00", StatusClosed},
		{"full day: from equal to to, start", allDay, "2027-03-03T00:00:00Z", StatusOpen},
		{"full day: from equal to to, last second", allDay, "2027-03-03T23:59:59Z", StatusOpen},
		{"full day: from equal to to, next day", allDay, "2027-03-04T00:00:00Z", StatusClosed},
		{"24 hours from 08:00: next day 07:59", allDay, "2027-03-06T07:59:59Z", StatusOpen},
		{"24 hours from 08:00: next day 08:00", allDay, "2027-03-06T08:00:00Z", StatusClosed},

		{"no midnight (Santiago springs forward at 00:00): Saturday 23:59:59", santiago, "2027-09-05T03:59:59Z", StatusOpen},
		{"no midnight: Sunday 01:00 is after midnight", santiago, "2027-09-05T04:00:00Z", StatusOpen},
		{"no midnight: Sunday 01:30 ends the range", santiago, "2027-09-05T04:30:00Z", StatusClosed},
		{"repeated hour before midnight (Santiago falls back): first 23:30", santiago, "2027-04-04T02:30:00Z", StatusOpen},
		{"repeated hour before midnight: second 23:30", santiago, "2027-04-04T03:30:00Z", StatusOpen},
		{"repeated hour before midnight: Sunday 01:30", santiago, "2027-04-04T05:30:00Z", StatusClosed},
		{"range to 00:00: last second", toMidnight, "2027-03-06T23:59:59+01:00", StatusOpen},
		{"range to 00:00 ends at midnight", toMidnight, "2027-03-07T00:00:00+01:00", StatusClosed},
		{"range to 00:00, next day's own range", toMidnight, "2027-03-07T00:45:00+01:00", StatusOpen},
		{"overnight range into the first of a month", zurich(), "2027-08-01T01:00:00+02:00", StatusOpen},
		{"overnight range into a new year", yearEnd, "2028-01-02T01:00:00+01:00", StatusClosed},
		{"holiday across the turn of the year: 31 December", yearEnd, "2027-12-31T10:00:00+01:00", StatusHoliday},
		{"holiday across the turn of the year: 1 January", yearEnd, "2028-01-01T23:30:00+01:00", StatusHoliday},
		{"holiday on a leap day", yearEnd, "2028-02-29T10:00:00+01:00", StatusHoliday},
		{"day after a leap-day holiday", yearEnd, "2028-03-01T10:00:00+01:00", StatusOpen},

		{"day before a holiday", holidays, "2026-12-31T10:00:00+01:00", StatusOpen},
		{"holiday on a working day", holidays, "2027-01-01T10:00:00+01:00", StatusHoliday},
		{"holiday at midnight", holidays, "2027-01-01T00:00:00+01:00", StatusHoliday},
		{"holiday covers its last date", holidays, "2027-01-02T23:00:00+01:00", StatusHoliday},
		{"a holiday runs no overnight range on", holidays, "2027-01-03T01:00:00+01:00", StatusClosed},
		{"overnight range into a holiday: before midnight", holidays, "2027-03-06T23:00:00+01:00", StatusOpen},
		{"overnight range into a holiday: after midnight", holidays, "2027-03-07T01:00:00+01:00", StatusHoliday},

		{"special day overrides a holiday inside its range", christmas, "2027-12-24T10:00:00+01:00", StatusSpecial3},
		{"special day overrides a holiday outside its range", christmas, "2027-12-24T13:00:00+01:00", StatusClosed},
		{"holiday after the special day", christmas, "2027-12-25T10:00:00+01:00", StatusHoliday},
		{"special day overrides the weekly schedule", specials, "2027-03-03T10:00:00+01:00", StatusClosed},
		{"special day inside its range", specials, "2027-03-03T21:00:00+01:00", StatusSpecial2},
		{"special overnight range into an ordinary day", specials, "2027-03-04T02:00:00+01:00", StatusSpecial2},
		{"special overnight range ends", specials, "2027-03-04T03:00:00+01:00", StatusClosed},
		{"ordinary day after a special day", specials, "2027-03-04T09:00:00+01:00", StatusOpen},
		{"overnight range into a special day: special governs", specials, "2027-03-07T00:15:00+01:00", StatusClosed},
		{"special range after midnight", specials, "2027-03-07T00:45:00+01:00", StatusSpecial},
		{"multi-day special runs on into its next date", specials, "2027-03-16T00:30:00+01:00", StatusSpecial4},
		{"multi-day special runs on past its last date", specials, "2027-03-17T00:30:00+01:00", StatusSpecial4},
		{"multi-day special, between ranges", specials, "2027-03-16T10:00:00+01:00", StatusClosed},
		{"another special day does not take the previous one's range", specials, "2027-03-20T01:00:00+01:00", StatusClosed},
		{"another special day, inside its own range", specials, "2027-03-20T10:30:00+01:00", StatusSpecial2},
		{"special day without ranges is closed", specials, "2027-03-22T10:00:00+01:00", StatusClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cal != nil {
				if err := tt.cal.Validate("calendar"); err != nil {
					t.Fatalf("fixture is invalid: %v", err)
				}
			}
			at, err := time.Parse(time.RFC3339, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tt.cal.StatusAt(at)
			if err != nil {
				t.Fatalf("StatusAt(%s): %v", tt.at, err)
			}
			if got != tt.want {
				t.Errorf("StatusAt(%s) = %s, want %s", tt.at, got, tt.want)
			}
		})
	}
}

func TestCalendarInvalidZone(t *testing.T) {
	for _, zone := range []string{"", "Local", "Mars/Olympus_Mons", "Europe/Zurich ", "../../etc/passwd", "/usr/share/zoneinfo/UTC", "europe/zurich\x00",
		"posix/Europe/Zurich", "right/UTC", "localtime", "posixrules", "Factory", "Europe/Zurich.tab", "zone.tab"} {
		c := &Calendar{TimeZone: zone}
		err := c.Validate("services[0].calendar")
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindInvalid || e.Target != "services[0].calendar.timeZone" {
			t.Errorf("zone %q: got %v, want InvalidArgument at services[0].calendar.timeZone", zone, err)
		}
		if _, err := c.StatusAt(time.Now()); err == nil {
			t.Errorf("zone %q: StatusAt succeeded", zone)
		}
	}
	for _, zone := range []string{"UTC", "Europe/Zurich", "America/Argentina/Buenos_Aires", "Asia/Kathmandu", "Etc/GMT+5", "Etc/GMT-14", "EST5EDT", "GMT0"} {
		if err := (&Calendar{TimeZone: zone}).Validate("c"); err != nil {
			t.Errorf("zone %q: %v", zone, err)
		}
	}
}

func TestCalendarValidation(t *testing.T) {
	tooMany := func(n int) []TimeRange {
		out := make([]TimeRange, n)
		for i := range out {
			out[i] = r("08:00", "09:00")
		}
		return out
	}
	tests := []struct {
		name   string
		edit   func(c *Calendar)
		target string
	}{
		{"valid", func(c *Calendar) {}, ""},
		{"empty to is the from date", func(c *Calendar) { c.Holidays = []Holiday{{From: "2027-01-01"}} }, ""},
		{"hour 24", func(c *Calendar) { c.Weekly.Monday[1].To = "24:00" }, "services[1].calendar.weekly.monday[1].to"},
		{"minute 60", func(c *Calendar) { c.Weekly.Friday = []TimeRange{r("08:60", "09:00")} }, "services[1].calendar.weekly.friday[0].from"},
		{"no leading zero", func(c *Calendar) { c.Weekly.Sunday = []TimeRange{r("8:00", "09:00")} }, "services[1].calendar.weekly.sunday[0].from"},
		{"seconds", func(c *Calendar) { c.Weekly.Tuesday = []TimeRange{r("08:00", "09:00:00")} }, "services[1].calendar.weekly.tuesday[0].to"},
		{"empty range time", func(c *Calendar) { c.Weekly.Thursday = []TimeRange{{From: "08:00"}} }, "services[1].calendar.weekly.thursday[0].to"},
		{"too many ranges", func(c *Calendar) { c.Weekly.Wednesday = tooMany(MaxRangesPerDay + 1) }, "services[1].calendar.weekly.wednesday"},
		{"holiday bad date", func(c *Calendar) { c.Holidays = []Holiday{{Name: "x", From: "2027-02-30"}} }, "services[1].calendar.holidays[0].from"},
		{"holiday bad to", func(c *Calendar) { c.Holidays = []Holiday{{From: "2027-01-01", To: "01.01.2027"}} }, "services[1].calendar.holidays[0].to"},
		{"holiday ends before it starts", func(c *Calendar) {
			c.Holidays = []Holiday{{From: "2027-01-01"}, {From: "2027-01-05", To: "2027-01-04"}}
		}, "services[1].calendar.holidays[1].to"},
		{"holiday name too long", func(c *Calendar) {
			c.Holidays = []Holiday{{Name: string(make([]byte, MaxCalendarNameLength+1)), From: "2027-01-01"}}
		}, "services[1].calendar.holidays[0].name"},
		{"too many holidays", func(c *Calendar) { c.Holidays = make([]Holiday, MaxHolidays+1) }, "services[1].calendar.holidays"},
		{"special day without kind", func(c *Calendar) { c.SpecialDays = []SpecialDay{{From: "2027-01-01"}} }, "services[1].calendar.specialDays[0].kind"},
		{"special day kind Open", func(c *Calendar) { c.SpecialDays = []SpecialDay{{Kind: StatusOpen, From: "2027-01-01"}} }, "services[1].calendar.specialDays[0].kind"},
		{"special day bad range", func(c *Calendar) {
			c.SpecialDays = []SpecialDay{{Kind: StatusSpecial, From: "2027-01-01", Ranges: []TimeRange{r("10:00", "12:00"), r("1200", "13:00")}}}
		}, "services[1].calendar.specialDays[0].ranges[1].from"},
		{"special day too many ranges", func(c *Calendar) {
			c.SpecialDays = []SpecialDay{{Kind: StatusSpecial, From: "2027-01-01", Ranges: tooMany(MaxRangesPerSpecialDay + 1)}}
		}, "services[1].calendar.specialDays[0].ranges"},
		{"special days overlap", func(c *Calendar) {
			c.SpecialDays = []SpecialDay{{Kind: StatusSpecial, From: "2027-01-01", To: "2027-01-03"}, {Kind: StatusSpecial2, From: "2027-01-03"}}
		}, "services[1].calendar.specialDays[1].from"},
		{"special days touch without overlap", func(c *Calendar) {
			c.SpecialDays = []SpecialDay{{Kind: StatusSpecial, From: "2027-01-01", To: "2027-01-02"}, {Kind: StatusSpecial2, From: "2027-01-03"}}
		}, ""},
		{"bad zone", func(c *Calendar) { c.TimeZone = "CEST" }, "services[1].calendar.timeZone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := policyDirectory(tenantA)
			cal := zurich()
			tt.edit(cal)
			d.Services[1].Calendar = cal
			err := d.Validate()
			if tt.target == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindInvalid || e.Target != tt.target {
				t.Fatalf("got %v, want InvalidArgument at %s", err, tt.target)
			}
		})
	}
}

// The index keeps its own copy of a calendar: changing the directory it was built from, or
// a copy it handed out, does not change what it evaluates.
func TestIndexKeepsItsCalendar(t *testing.T) {
	d := policyDirectory(tenantA)
	d.Services[0].Calendar = zurich()
	x, err := NewIndex(d)
	if err != nil {
		t.Fatal(err)
	}
	d.Services[0].Calendar.Weekly.Monday[0].From = "00:00"
	out := x.Directory()
	out.Services[0].Calendar.Weekly.Monday[0].To = "23:00"
	svc, _ := x.Service(d.Services[0].ID)
	if got := svc.Calendar.Weekly.Monday[0]; got != r("08:00", "12:00") {
		t.Errorf("indexed calendar changed to %v", got)
	}
}

// A calendar at every limit, with names of the longest length, takes at most half of one
// stored directory entry, leaving the rest for the other fields of its service.
func TestLargestCalendarFitsOneEntry(t *testing.T) {
	name := strings.Repeat("é", MaxCalendarNameLength)
	ranges := func(n int) []TimeRange {
		out := make([]TimeRange, n)
		for i := range out {
			out[i] = r("23:59", "00:00")
		}
		return out
	}
	c := &Calendar{TimeZone: "America/Argentina/ComodRivadavia"}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		*c.Weekly.slot(wd) = ranges(MaxRangesPerDay)
	}
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range MaxHolidays {
		day := start.AddDate(0, 0, i).Format(time.DateOnly)
		c.Holidays = append(c.Holidays, Holiday{Name: name, From: day, To: day})
	}
	for i := range MaxSpecialDays {
		day := start.AddDate(2, 0, i).Format(time.DateOnly)
		c.SpecialDays = append(c.SpecialDays, SpecialDay{Name: name, Kind: StatusSpecial4, From: day, To: day, Ranges: ranges(MaxRangesPerSpecialDay)})
	}
	if err := c.Validate("calendar"); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(Service{Calendar: c})
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > MaxEntityData/2 {
		t.Errorf("largest calendar takes %d bytes of the %d an entry holds", len(data), MaxEntityData)
	}
}
