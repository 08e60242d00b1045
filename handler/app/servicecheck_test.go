package app

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func TestOpeningHours(t *testing.T) {
	f := newFixture(t, 0)
	u, s := f.demo.Users, f.demo.Services
	now := time.Date(2027, 12, 24, 12, 0, 0, 0, time.UTC) // 13:00 in Zurich, Christmas Eve
	f.dir.now = func() time.Time { return now }
	at := func(v string) time.Time {
		tm, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name    string
		who     string
		service string
		at      time.Time
		want    nimbus.OpeningStatus
		kind    nimbus.Kind
		target  string
	}{
		{"owner, office hours", u.ServiceOwner, s.ContactCenter, at("2027-03-02T09:00:00+01:00"), nimbus.StatusOpen, "", ""},
		{"owner, special day", u.ServiceOwner, s.ContactCenter, at("2027-03-01T10:30:00+01:00"), nimbus.StatusSpecial2, "", ""},
		{"owner, holiday", u.ServiceOwner, s.ContactCenter, at("2027-12-25T10:30:00+01:00"), nimbus.StatusHoliday, "", ""},
		{"owner, default time is now", u.ServiceOwner, s.ContactCenter, time.Time{}, nimbus.StatusSpecial, "", ""},
		{"owner, UPN in other case", u.ServiceOwner, "ContactCenter@Contoso.com", at("2027-03-02T12:30:00+01:00"), nimbus.StatusClosed, "", ""},
		{"limited owner", u.TeamOwnerLimited, s.ContactCenter, at("2027-03-06T23:00:00+01:00"), nimbus.StatusOpen, "", ""},
		{"limited owner of another service", u.TeamOwnerLimited, s.EnterpriseRouting, at("2027-03-02T10:00:00-05:00"), "", nimbus.KindForbidden, ""},
		{"admin, New York", u.TenantAdmin, s.EnterpriseRouting, at("2027-03-15T13:30:00Z"), nimbus.StatusOpen, "", ""},
		{"admin, service without calendar", u.TenantAdmin, s.InvalidWorkflow, time.Time{}, nimbus.StatusNone, "", ""},
		{"admin, unlicensed service", u.TenantAdmin, s.AdvancedRouting, time.Time{}, "", nimbus.KindInvalid, ""},
		{"owner, service in a sibling OU", u.ServiceOwner, s.InvalidWorkflow, time.Time{}, "", nimbus.KindNotFound, ""},
		{"owner, missing service", u.ServiceOwner, "nobody@contoso.com", time.Time{}, "", nimbus.KindNotFound, ""},
		{"owner, no service", u.ServiceOwner, "", time.Time{}, "", nimbus.KindInvalid, "serviceUpn"},
		{"OU admin", u.OUAdmin, s.ContactCenter, time.Time{}, "", nimbus.KindForbidden, ""},
		{"partner admin", u.PartnerAdmin, s.ContactCenter, time.Time{}, "", nimbus.KindForbidden, ""},
		{"supervisor", u.Supervisor, s.ContactCenter, time.Time{}, "", nimbus.KindForbidden, ""},
		{"user", u.User, s.ContactCenter, time.Time{}, "", nimbus.KindForbidden, ""},
		{"stranger", "stranger@contoso.com", s.ContactCenter, time.Time{}, "", nimbus.KindForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.dir.OpeningHours(t.Context(), f.caller(tt.who), tt.service, tt.at)
			if tt.kind == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var e *nimbus.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.Target != tt.target {
				t.Fatalf("got %q, %v; want %s at %q", got, err, tt.kind, tt.target)
			}
		})
	}
	if _, err := f.dir.OpeningHours(t.Context(), nimbus.Caller{TenantID: f.demo.TenantID, IsApp: true, AppID: "x"}, s.ContactCenter, now); !errors.Is(err, nimbus.ErrForbidden) {
		t.Errorf("app token: got %v, want Forbidden", err)
	}
}

func TestOpeningHoursServices(t *testing.T) {
	f := newFixture(t, 0)
	u, s := f.demo.Users, f.demo.Services
	tests := []struct {
		who  string
		want string
	}{
		{u.TenantAdmin, fmt.Sprint([]string{s.ContactCenter, s.EnterpriseRouting, s.InvalidWorkflow})},
		{u.ServiceOwner, fmt.Sprint([]string{s.ContactCenter, s.EnterpriseRouting})},
		{u.TeamOwnerLimited, fmt.Sprint([]string{s.ContactCenter})},
	}
	for _, tt := range tests {
		got, err := f.dir.OpeningHoursServices(t.Context(), f.caller(tt.who))
		if err != nil || fmt.Sprint(got) != tt.want {
			t.Errorf("%s: got %v, %v; want %s", tt.who, got, err, tt.want)
		}
	}
	for _, who := range []string{u.OUAdmin, u.PartnerAdmin, u.Supervisor, u.User} {
		if _, err := f.dir.OpeningHoursServices(t.Context(), f.caller(who)); !errors.Is(err, nimbus.ErrForbidden) {
			t.Errorf("%s: got %v, want Forbidden", who, err)
		}
	}
}
