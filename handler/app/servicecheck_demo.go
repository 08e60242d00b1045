package app

import "github.com/nimbusflow/connector/handler/nimbus"

// demoHotlineCalendar is the demo hotline's opening hours in Zurich: office hours on
// weekdays, a Saturday night shift that runs past midnight, the Swiss public holidays of
// 2026 to 2028, and an extended line on Christmas Eve that overrides the holiday.
func demoHotlineCalendar() *nimbus.Calendar {
	office := []nimbus.TimeRange{{From: "08:00", To: "12:00"}, {From: "13:00", To: "17:30"}}
	return &nimbus.Calendar{
		TimeZone: "Europe/Zurich",
		Weekly: nimbus.Weekly{
			Monday: office, Tuesday: office, Wednesday: office, Thursday: office,
			Friday:   []nimbus.TimeRange{{From: "08:00", To: "12:00"}, {From: "13:00", To: "16:00"}},
			Saturday: []nimbus.TimeRange{{From: "22:00", To: "02:00"}},
		},
		Holidays: []nimbus.Holiday{
			{Name: "New Year", From: "2026-01-01", To: "2026-01-02"},
			{Name: "Easter", From: "2026-04-03", To: "2026-04-06"},
			{Name: "Ascension Day", From: "2026-05-14"},
			{Name: "Whit Monday", From: "2026-05-25"},
			{Name: "Swiss National Day", From: "2026-08-01"},
			{Name: "Christmas", From: "2026-12-24", To: "2026-12-26"},
			{Name: "New Year", From: "2027-01-01", To: "2027-01-02"},
			{Name: "Easter", From: "2027-03-26", To: "2027-03-29"},
			{Name: "Ascension Day", From: "2027-05-06"},
			{Name: "Whit Monday", From: "2027-05-17"},
			{Name: "Swiss National Day", From: "2027-08-01"},
			{Name: "Christmas", From: "2027-12-24", To: "2027-12-26"},
			{Name: "New Year", From: "2028-01-01", To: "2028-01-02"},
			{Name: "Easter", From: "2028-04-14", To: "2028-04-17"},
			{Name: "Ascension Day", From: "2028-05-25"},
			{Name: "Whit Monday", From: "2028-06-05"},
			{Name: "Swiss National Day", From: "2028-08-01"},
			{Name: "Christmas", From: "2028-12-24", To: "2028-12-26"},
		},
		SpecialDays: []nimbus.SpecialDay{
			{Name: "Christmas Eve line", Kind: nimbus.StatusSpecial, From: "2026-12-24", Ranges: []nimbus.TimeRange{{From: "09:00", To: "14:00"}}},
			{Name: "Christmas Eve line", Kind: nimbus.StatusSpecial, From: "2027-12-24", Ranges: []nimbus.TimeRange{{From: "09:00", To: "14:00"}}},
			{Name: "Christmas Eve line", Kind: nimbus.StatusSpecial, From: "2028-12-24", Ranges: []nimbus.TimeRange{{From: "09:00", To: "14:00"}}},
			{Name: "Stocktaking", Kind: nimbus.StatusSpecial2, From: "2027-03-01", Ranges: []nimbus.TimeRange{{From: "10:00", To: "12:00"}}},
		},
	}
}

// demoSalesCalendar is the demo sales line's opening hours in New York, to show a second
// time zone: weekdays 09:00 to 17:00.
func demoSalesCalendar() *nimbus.Calendar {
	day := []nimbus.TimeRange{{From: "09:00", To: "17:00"}}
	return &nimbus.Calendar{
		TimeZone: "America/New_York",
		Weekly:   nimbus.Weekly{Monday: day, Tuesday: day, Wednesday: day, Thursday: day, Friday: day},
		Holidays: []nimbus.Holiday{
			{Name: "Independence Day", From: "2027-07-05"},
			{Name: "Thanksgiving", From: "2027-11-25", To: "2027-11-26"},
		},
	}
}
