// Package webhook is the outbound HTTP of trigger notifications: it POSTs one notification
// attempt to a flow's callback URL and reports what happened as a nimbus.Attempt. It owns the
// callback URL policy (https, allowed hosts, no private or metadata addresses, checked again
// in the dialer after DNS resolution), the Standard Webhooks headers and signature, the
// per-attempt timeout and the per-host concurrency slots.
//
// Delivery policy does not live here: what an Attempt means (delivered, retry, dead letter,
// dead subscription), the retry schedule and the queue belong to the app package, which
// reaches this package through its Poster interface. Nothing here logs: callback URLs are
// bearer secrets (SPEC 4.1), so errors name the host at most and Attempt.Err is a fixed text.
package webhook
