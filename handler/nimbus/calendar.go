package nimbus

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Calendar is a service's opening hours (SPEC 6.2): a weekly schedule, holidays and special
// days, all in local time of TimeZone. Validate checks it; StatusAt evaluates it.
type Calendar struct {
	// TimeZone is an IANA time zone name such as Europe/Zurich.
	TimeZone    string       `json:"timeZone"`
	Weekly      Weekly       `json:"weekly"`
	Holidays    []Holiday    `json:"holidays,omitempty"`
	SpecialDays []SpecialDay `json:"specialDays,omitempty"`
}

// Weekly holds the opening ranges of each weekday.
type Weekly struct {
	Monday    []TimeRange `json:"monday,omitempty"`
	Tuesday   []TimeRange `json:"tuesday,omitempty"`
	Wednesday []TimeRange `json:"wednesday,omitempty"`
	Thursday  []TimeRange `json:"thursday,omitempty"`
	Friday    []TimeRange `json:"friday,omitempty"`
	Saturday  []TimeRange `json:"saturday,omitempty"`
	Sunday    []TimeRange `json:"sunday,omitempty"`
}

// TimeRange is a span of local wall-clock time, "HH:MM" to "HH:MM". From is included, To is
// not. A range whose To is not after its From runs past midnight into the next day and
// belongs to the day it starts on; From equal to To is a full 24 hours.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Holiday closes the service on the dates From to To ("YYYY-MM-DD", both included).
type Holiday struct {
	Name string `json:"name,omitempty"`
	From string `json:"from"`
	To   string `json:"to"`
}

// SpecialDay replaces the weekly schedule and any holiday on the dates From to To (both
// included): inside one of its Ranges the status is Kind, otherwise Closed.
type SpecialDay struct {
	Name   string        `json:"name,omitempty"`
	Kind   OpeningStatus `json:"kind"`
	From   string        `json:"from"`
	To     string        `json:"to"`
	Ranges []TimeRange   `json:"ranges,omitempty"`
}

// OpeningStatus is the answer of the opening-hours check.
type OpeningStatus string

const (
	StatusNone     OpeningStatus = "None" // the service has no calendar
	StatusOpen     OpeningStatus = "Open"
	StatusClosed   OpeningStatus = "Closed"
	StatusHoliday  OpeningStatus = "Holiday"
	StatusSpecial  OpeningStatus = "Special"
	StatusSpecial2 OpeningStatus = "Special2"
	StatusSpecial3 OpeningStatus = "Special3"
	StatusSpecial4 OpeningStatus = "Special4"
)

// SpecialKinds are the statuses a special day may have.
var SpecialKinds = []OpeningStatus{StatusSpecial, StatusSpecial2, StatusSpecial3, StatusSpecial4}

// Limits of a calendar. They keep one service, with its calendar, well inside one stored
// directory entry (MaxEntityData), and one evaluation cheap.
const (
	MaxTimeZoneLength      = 64
	MaxCalendarNameLength  = 100
	MaxRangesPerDay        = 24
	MaxHolidays            = 400
	MaxSpecialDays         = 250
	MaxRangesPerSpecialDay = 8
)

// weekdayNames are the JSON names of Weekly's fields, indexed by time.Weekday.
var weekdayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// Day returns the ranges of weekday wd.
func (w *Weekly) Day(wd time.Weekday) []TimeRange {
	switch wd {
	case time.Monday:
		return w.Monday
	case time.Tuesday:
		return w.Tuesday
	case time.Wednesday:
		return w.Wednesday
	case time.Thursday:
		return w.Thursday
	case time.Friday:
		return w.Friday
	case time.Saturday:
		return w.Saturday
	case time.Sunday:
		return w.Sunday
	}
	return nil
}

// Clone returns a deep copy of c (nil for nil).
func (c *Calendar) Clone() *Calendar {
	if c == nil {
		return nil
	}
	out := *c
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		*out.Weekly.slot(wd) = slices.Clone(c.Weekly.Day(wd))
	}
	out.Holidays = slices.Clone(c.Holidays)
	out.SpecialDays = slices.Clone(c.SpecialDays)
	for i := range out.SpecialDays {
		out.SpecialDays[i].Ranges = slices.Clone(out.SpecialDays[i].Ranges)
	}
	return &out
}

func (w *Weekly) slot(wd time.Weekday) *[]TimeRange {
	return [7]*[]TimeRange{&w.Sunday, &w.Monday, &w.Tuesday, &w.Wednesday, &w.Thursday, &w.Friday, &w.Saturday}[wd]
}

// zones caches loaded time zones by name: loading one reads and parses zone data each time.
// Only names that loaded are kept, and the zone database is finite, so the cache is bounded.
var zones sync.Map // string → *time.Location

// zoneName is the shape of an IANA zone name: segments of letters, digits, "_", "+" and "-",
// the first starting with a letter (Europe/Zurich, America/Argentina/Buenos_Aires, Etc/GMT+5).
var zoneName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$`)

// hostOnlyZones are names that zone directories of some hosts hold besides the IANA zones,
// and the embedded database does not: a calendar using one would work on one host and not
// on another.
var hostOnlyZones = []string{"Local", "localtime", "posixrules", "Factory"}

// LoadZone returns the IANA time zone name. It refuses the empty name and "Local", which
// time.LoadLocation would map to UTC and to the host's zone, and names that only some hosts'
// zone directories have (the posix/ and right/ trees, localtime): a calendar names an IANA
// zone, which the zone database embedded in the binary has on every host.
func LoadZone(name string) (*time.Location, error) {
	if v, ok := zones.Load(name); ok {
		return v.(*time.Location), nil
	}
	if len(name) > MaxTimeZoneLength || !zoneName.MatchString(name) || slices.Contains(hostOnlyZones, name) ||
		strings.HasPrefix(name, "posix/") || strings.HasPrefix(name, "right/") {
		return nil, fmt.Errorf("load time zone %q: not an IANA time zone name", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("load time zone %q: %w", name, err)
	}
	zones.Store(name, loc)
	return loc, nil
}

// clock parses "HH:MM" (00:00 to 23:59) into seconds after midnight.
func clock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, ok1 := digits2(s[0:2])
	m, ok2 := digits2(s[3:5])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	return h*3600 + m*60, true
}

func digits2(s string) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// date is a calendar date as yyyymmdd, so that dates compare as integers.
type date int

func dateOf(y int, m time.Month, d int) date { return date(y*10000 + int(m)*100 + d) }

// parseDate parses "YYYY-MM-DD" strictly (a real date, four-digit year).
func parseDate(s string) (date, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return 0, false
	}
	return dateOf(t.Date()), true
}

// Validate checks the calendar and names the offending entry below at (for example
// "services[2].calendar.weekly.monday[1].to").
func (c *Calendar) Validate(at string) error {
	if _, err := LoadZone(c.TimeZone); err != nil {
		return Invalid(at+".timeZone", "%s.timeZone %q is not an IANA time zone such as Europe/Zurich", at, c.TimeZone)
	}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if err := validateRanges(at+".weekly."+weekdayNames[wd], c.Weekly.Day(wd), MaxRangesPerDay); err != nil {
			return err
		}
	}
	if len(c.Holidays) > MaxHolidays {
		return Invalid(at+".holidays", "%s.holidays must have at most %d entries", at, MaxHolidays)
	}
	for i := range c.Holidays {
		h := &c.Holidays[i]
		if _, _, err := validateDates(fmt.Sprintf("%s.holidays[%d]", at, i), h.Name, &h.From, &h.To); err != nil {
			return err
		}
	}
	return c.validateSpecialDays(at)
}

func (c *Calendar) validateSpecialDays(at string) error {
	if len(c.SpecialDays) > MaxSpecialDays {
		return Invalid(at+".specialDays", "%s.specialDays must have at most %d entries", at, MaxSpecialDays)
	}
	type span struct{ from, to date }
	spans := make([]span, len(c.SpecialDays))
	for i := range c.SpecialDays {
		s := &c.SpecialDays[i]
		here := fmt.Sprintf("%s.specialDays[%d]", at, i)
		from, to, err := validateDates(here, s.Name, &s.From, &s.To)
		if err != nil {
			return err
		}
		if !slices.Contains(SpecialKinds, s.Kind) {
			return Invalid(here+".kind", "%s.kind %q is not a kind of special day; use one of %v", here, s.Kind, SpecialKinds)
		}
		if err := validateRanges(here+".ranges", s.Ranges, MaxRangesPerSpecialDay); err != nil {
			return err
		}
		// Special days replace the schedule of their dates, so two of them on one date would
		// leave the status to chance.
		for j, o := range spans[:i] {
			if from <= o.to && o.from <= to {
				return Invalid(here+".from", "%s (%s to %s) overlaps %s.specialDays[%d] (%s to %s); special days must not share a date", here, s.From, s.To, at, j, c.SpecialDays[j].From, c.SpecialDays[j].To)
			}
		}
		spans[i] = span{from, to}
	}
	return nil
}

// validateDates checks the name and the date range of a holiday or special day. An empty to
// means the single day from, and is filled in.
func validateDates(at, name string, from, to *string) (date, date, error) {
	if err := CheckText(at+".name", name, MaxCalendarNameLength, false); err != nil {
		return 0, 0, err
	}
	f, ok := parseDate(*from)
	if !ok {
		return 0, 0, Invalid(at+".from", "%s.from must be a date such as 2027-01-01, got %q", at, *from)
	}
	if strings.TrimSpace(*to) == "" {
		*to = *from
	}
	t, ok := parseDate(*to)
	if !ok {
		return 0, 0, Invalid(at+".to", "%s.to must be a date such as 2027-01-01, got %q", at, *to)
	}
	if t < f {
		return 0, 0, Invalid(at+".to", "%s.to (%s) must not be before %s.from (%s)", at, *to, at, *from)
	}
	return f, t, nil
}

func validateRanges(at string, ranges []TimeRange, max int) error {
	if len(ranges) > max {
		return Invalid(at, "%s must have at most %d ranges", at, max)
	}
	for i, r := range ranges {
		here := fmt.Sprintf("%s[%d]", at, i)
		if _, ok := clock(r.From); !ok {
			return Invalid(here+".from", "%s.from must be a time of day such as 08:00 (00:00 to 23:59), got %q", here, r.From)
		}
		if _, ok := clock(r.To); !ok {
			return Invalid(here+".to", "%s.to must be a time of day such as 17:30 (00:00 to 23:59), got %q", here, r.To)
		}
	}
	return nil
}
