package app

import (
	"context"
	"fmt"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// OpeningHours is GetOpeningHours (SPEC 6.2): the calendar status of the service at the
// instant at (the zero time means now). The caller must be a tenant admin, or an owner or
// limited owner of the service; a service the caller may not read answers like a missing
// one. A service without a calendar answers StatusNone.
func (d *Directory) OpeningHours(ctx context.Context, caller nimbus.Caller, serviceUPN string, at time.Time) (nimbus.OpeningStatus, error) {
	x, acc, err := d.AccessFor(ctx, caller, nimbus.GroupOpeningHours)
	if err != nil {
		return "", err
	}
	if err := nimbus.CheckText("serviceUpn", serviceUPN, nimbus.MaxUPNLength, true); err != nil {
		return "", err
	}
	svc, ok := x.ServiceByUPN(serviceUPN)
	if !ok {
		return "", nimbus.NotFound("Service %q was not found.", serviceUPN)
	}
	if err := acc.CheckService(nimbus.GroupOpeningHours, svc); err != nil {
		return "", err
	}
	if at.IsZero() {
		at = d.now()
	}
	status, err := svc.Calendar.StatusAt(at)
	if err != nil {
		return "", fmt.Errorf("opening hours of service %s: %w", svc.ID, err)
	}
	return status, nil
}

// OpeningHoursServices is GetOpeningHoursServices, the dropdown of the check: the UPNs of the
// services the caller may check, whether or not they have a calendar.
func (d *Directory) OpeningHoursServices(ctx context.Context, caller nimbus.Caller) ([]string, error) {
	x, acc, err := d.AccessFor(ctx, caller, nimbus.GroupOpeningHours)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for i := range x.Services() {
		svc := &x.Services()[i]
		if acc.CheckService(nimbus.GroupOpeningHours, svc) == nil {
			out = append(out, svc.UPN)
		}
	}
	return out, nil
}
