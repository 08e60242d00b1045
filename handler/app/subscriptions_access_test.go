package app

import (
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func TestRecheckOwner(t *testing.T) {
	tests := []struct {
		name        string
		policy      nimbus.RevokedAccessPolicy
		ownerKept   bool
		status      nimbus.SubscriptionStatus // before
		service     string                    // "cc", "gone" or "" (the delivery does not say)
		wantDeliver bool
		wantStatus  nimbus.SubscriptionStatus
	}{
		{"access kept", nimbus.RevokedEnforce, true, nimbus.StatusActive, "cc", true, nimbus.StatusActive},
		{"access back: resumes", nimbus.RevokedEnforce, true, nimbus.StatusSuspended, "cc", true, nimbus.StatusActive},
		{"access lost: withheld and suspended", nimbus.RevokedEnforce, false, nimbus.StatusActive, "cc", false, nimbus.StatusSuspended},
		{"access lost, legacy: delivered", nimbus.RevokedLegacy, false, nimbus.StatusActive, "cc", true, nimbus.StatusActive},
		{"suspended, then legacy chosen: delivered and active", nimbus.RevokedLegacy, false, nimbus.StatusSuspended, "cc", true, nimbus.StatusActive},
		{"service left the directory", nimbus.RevokedEnforce, true, nimbus.StatusActive, "gone", false, nimbus.StatusSuspended},
		{"delivery without a service, access kept", nimbus.RevokedEnforce, true, nimbus.StatusActive, "", true, nimbus.StatusActive},
		{"delivery without a service, access lost", nimbus.RevokedEnforce, false, nimbus.StatusActive, "", false, nimbus.StatusSuspended},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipe(t)
			cc := p.demo.Services.ContactCenter
			sub := p.register(t, p.demo.Users.ServiceOwner, "https://a.logic.azure.com/cb?sig=secret", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue}, nil, nil)
			if err := p.subs.SetStatus(t.Context(), sub.TenantID, sub.ID, tt.status, "", 0); err != nil {
				t.Fatal(err)
			}
			d, _ := Demo()
			d.Settings.RevokedAccess = tt.policy
			if !tt.ownerKept {
				for i := range d.Services {
					d.Services[i].Owners = nil
				}
			}
			x, err := p.dir.Import(t.Context(), p.caller(p.demo.Users.TenantAdmin), d)
			if err != nil {
				t.Fatal(err)
			}
			service := ""
			switch tt.service {
			case "cc":
				svc, _ := x.ServiceByUPN(cc)
				service = svc.ID
			case "gone":
				service = "no-such-service"
			}
			sub, _ = p.subs.Get(t.Context(), sub.TenantID, sub.ID)
			chk, err := p.subs.RecheckOwner(t.Context(), x, &sub, service)
			if err != nil {
				t.Fatal(err)
			}
			wantReason := !tt.ownerKept || tt.service == "gone"
			if chk.Deliver != tt.wantDeliver || (chk.Reason != "") != wantReason {
				t.Errorf("deliver %v, reason %q; want deliver %v, a reason %v", chk.Deliver, chk.Reason, tt.wantDeliver, wantReason)
			}
			got, _ := p.subs.Get(t.Context(), sub.TenantID, sub.ID)
			if got.Status != tt.wantStatus || (got.Status == nimbus.StatusSuspended) != (got.StatusReason != "") {
				t.Errorf("status %s (%q), want %s", got.Status, got.StatusReason, tt.wantStatus)
			}
		})
	}
}
