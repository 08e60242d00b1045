package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DemoOptions are what the living demo needs from its wiring.
type DemoOptions struct {
	Handler  string       // base URL of the running handler (dev auth, demo tenant)
	Commands net.Listener // where the handler's NIMBUS_CORE_COMMANDS_URL points
	Out      io.Writer
	Log      *slog.Logger
	Seed     int64
	Speed    float64
	Rate     float64
}

// demo is the state of a living demo: a callback sink standing in for Power Automate and a
// "flow" that acts on what it receives, the way a maker's flows would.
type demo struct {
	o      DemoOptions
	c      *Client // calls as the tenant admin
	tenant string
	out    sync.Mutex
	began  time.Time
	wg     sync.WaitGroup
}

// Demo registers a local callback sink as task, scheduler-entry and virtual-assistant
// trigger of the demo tenant, runs the simulator and prints every notification as it
// arrives, until ctx ends. Like a flow, it sets the parameter a waiting workflow asks for,
// and every half minute it adds an external task and schedules an outbound call.
func Demo(ctx context.Context, o DemoOptions) error {
	hc := &http.Client{Timeout: 30 * time.Second}
	anon := &Client{Base: o.Handler, HTTP: hc}
	info, err := anon.Demo(ctx)
	if err != nil {
		return err
	}
	var dem struct {
		Users struct {
			TenantAdmin string `json:"tenantAdmin"`
		} `json:"users"`
		Services struct {
			ContactCenter     string `json:"contactCenter"`
			EnterpriseRouting string `json:"enterpriseRouting"`
		} `json:"services"`
	}
	if err := anon.do(ctx, "read demo tenant", "GET", "/dev/demo", nil, &dem); err != nil {
		return err
	}
	d := &demo{o: o, tenant: info.TenantID, began: time.Now(), c: &Client{Base: o.Handler, HTTP: hc, Tokens: &userToken{base: o.Handler, tenant: info.TenantID, upn: dem.Users.TenantAdmin, http: hc}}}

	sinkLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for notifications: %w", err)
	}
	sink := &http.Server{Handler: http.HandlerFunc(d.receive), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = sink.Serve(sinkLn) }()
	defer sink.Close()
	base := "http://" + sinkLn.Addr().String()
	services := []string{dem.Services.ContactCenter, dem.Services.EnterpriseRouting}
	all := []string{"WorkflowStarted", "SystemAccepted", "ParameterUpdated", "InQueue", "ConnectedToUser", "DestinationReached", "QueueLeft", "Terminated"}
	for _, reg := range []struct {
		kind string
		cfg  map[string]any
	}{
		{"tasks", map[string]any{"url": base + "/tasks", "services": services, "taskEvents": all}},
		{"scheduler-entries", map[string]any{"url": base + "/entries", "services": services[:1], "schedulerEntryEvents": []string{"Scheduled", "DueDateReached", "Handled", "LimitReached", "Removed", "Failed"}}},
		{"virtual-assistant", map[string]any{"url": base + "/va", "services": services[:1]}},
	} {
		if err := d.c.do(ctx, "register the "+reg.kind+" trigger", "POST", "/v1/triggers/"+reg.kind, map[string]any{"config": reg.cfg}, nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.Out, `
Living demo: the handler at %s, the Nimbus core simulator, and a callback sink at %s
registered as task, scheduler-entry and virtual-assistant trigger of tenant %s.
Watch it in the admin console: %s/console/ (sign in with the dev issuer as the tenant admin).
Admin views (tenant admin token from POST %s/dev/token):
  %s/admin/v1/subscriptions?tenantId=%s
  %s/admin/v1/delivery-failures?tenantId=%s
  %s/admin/v1/stats?tenantId=%s
Notifications follow as they arrive. Press Ctrl+C to stop.

`, o.Handler, base, d.tenant, o.Handler, o.Handler, o.Handler, d.tenant, o.Handler, d.tenant, o.Handler, d.tenant)

	opts, err := ParseFlags([]string{"--handler", o.Handler, "--seed", fmt.Sprint(o.Seed), "--speed", fmt.Sprint(o.Speed), "--rate", fmt.Sprint(o.Rate), "--summary", "30s", "--wait-for-parameter", "0.2"}, io.Discard)
	if err != nil {
		return err
	}
	d.wg.Add(1)
	go func() { defer d.wg.Done(); d.act(ctx, dem.Services.ContactCenter) }()
	err = RunWith(ctx, opts, Secrets{}, o.Commands, o.Out, o.Log)
	d.wg.Wait()
	return err
}

// receive prints one notification and answers 200; it also plays the flow that sets the
// parameter a waiting workflow asks for.
func (d *demo) receive(w http.ResponseWriter, r *http.Request) {
	var p map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p); err != nil {
		http.Error(w, "not JSON", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
	s := func(k string) string { v, _ := p[k].(string); return v }
	line := ""
	switch r.URL.Path {
	case "/tasks":
		line = fmt.Sprintf("task   %-18s %-16s %-8s %-26s %s", s("event"), s("modality"), s("direction"), s("serviceUPN"), s("taskId"))
		switch {
		case s("updatedParameterName") != "":
			line += fmt.Sprintf("  %s=%s", s("updatedParameterName"), s("updatedParameterValue"))
		case s("LastConnectedUserUPN") != "":
			line += "  user " + s("LastConnectedUserUPN")
		}
		if s("event") == "ParameterUpdated" && s("updatedParameterName") == "waitingFor" {
			d.wg.Add(1)
			go func() { defer d.wg.Done(); d.setParameter(s("taskId"), s("updatedParameterValue")) }()
		}
	case "/entries":
		line = fmt.Sprintf("entry  %-18s attempt %v  %s  %s", s("event"), p["attempt"], s("completionReason"), s("id"))
	case "/va":
		line = fmt.Sprintf("va     %-18s %s  transcript and summary of task %s", s("event"), s("serviceUPN"), s("taskId"))
	}
	d.out.Lock()
	fmt.Fprintf(d.o.Out, "%7s  %s\n", time.Since(d.began).Round(time.Second), strings.TrimRight(line, " "))
	d.out.Unlock()
}

// setParameter is what a maker's flow does on "waitingFor": look the value up and set it
// with Update task, so the workflow goes on.
func (d *demo) setParameter(task, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	body := map[string]any{"customContextParameters": []map[string]string{{"name": name, "value": "CRM-" + task[len(task)-4:]}}}
	if err := d.c.do(ctx, "update task", "PUT", "/v1/tasks/"+url.PathEscape(task), body, nil); err != nil {
		d.o.Log.Info("the demo flow could not update a task", "task", task, "err", err)
	}
}

// act adds an external task and schedules an outbound call every half minute.
func (d *demo) act(ctx context.Context, service string) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
		if err := d.c.do(ctx, "add an external task", "POST", "/v1/ExternalTasks", map[string]any{"serviceUpn": service, "customerIdentifier": fmt.Sprintf("ticket-%d", n)}, nil); err != nil && ctx.Err() == nil {
			d.o.Log.Info("the demo could not add an external task", "err", err)
		}
		due := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339)
		if err := d.c.do(ctx, "schedule an outbound call", "POST", "/v1/scheduler-entries", map[string]any{"serviceUpn": service, "destination": fmt.Sprintf("+4179%07d", 1000000+n), "dueDateTimeUtc": due, "maxAttempts": 3}, nil); err != nil && ctx.Err() == nil {
			d.o.Log.Info("the demo could not schedule a call", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// userToken mints a dev user token for the demo's flows.
type userToken struct {
	base, tenant, upn string
	http              *http.Client
	mu                sync.Mutex
	token             string
}

func (u *userToken) Token(ctx context.Context) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.token != "" {
		return u.token, nil
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	c := &Client{Base: u.base, HTTP: u.http}
	if err := c.do(ctx, "get a dev user token", "POST", "/dev/token", map[string]string{"tenantId": u.tenant, "upn": u.upn}, &out); err != nil {
		return "", err
	}
	u.token = out.AccessToken
	return u.token, nil
}
