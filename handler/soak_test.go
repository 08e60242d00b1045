package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
	"github.com/nimbusflow/connector/handler/sim"
)

// soakRetrySchedule is short so that a run of minutes sees whole retry lives: a delivery
// becomes a dead letter only after about two minutes of failures, longer than any fault.
const soakRetrySchedule = "1s,2s,4s,8s,15s,30s,60s"

// soakAccepted is what the simulator knows about an event the handler acknowledged.
type soakAccepted struct {
	at          time.Time
	service     string
	deliverable bool
}

// TestSoak runs the simulator at a steady rate against the real binary for
// NIMBUS_SOAK_DURATION with faults on a schedule, then reconciles every accepted event with
// what the callbacks acknowledged. scripts/soak.sh runs it; plain test runs skip it.
func TestSoak(t *testing.T) {
	dur, err := time.ParseDuration(os.Getenv("NIMBUS_SOAK_DURATION"))
	if err != nil || dur <= 0 {
		t.Skip("NIMBUS_SOAK_DURATION is not set; scripts/soak.sh DURATION runs the soak")
	}
	cs := os.Getenv("NIMBUS_TEST_AZURITE")
	m := tableEndpoint.FindStringSubmatch(cs)
	if m == nil {
		t.Fatal("the soak needs Azurite: NIMBUS_TEST_AZURITE with a TableEndpoint (scripts/soak.sh starts one)")
	}
	rate := 90.0
	if v := os.Getenv("NIMBUS_SOAK_RATE"); v != "" {
		if _, err := fmt.Sscan(v, &rate); err != nil || rate <= 0 {
			t.Fatalf("NIMBUS_SOAK_RATE must be a positive number of tasks per minute, not %q", v)
		}
	}
	proxy := newOutageProxy(t, m[1])
	proxyAddr := proxy.addr
	commands, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(t.TempDir() + "/handler.log")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	h := &soakHandler{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), logs: logs, env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), fmt.Sprintf("NIMBUS_ADDR=127.0.0.1:%d", port),
		"NIMBUS_STORAGE=" + strings.Replace(cs, m[0], "TableEndpoint=http://"+proxyAddr+"/", 1),
		"NIMBUS_DEV_AUTH=true", "NIMBUS_DATA_DIR=" + t.TempDir(), "NIMBUS_LOG_LEVEL=warn",
		"NIMBUS_CORE_COMMANDS_URL=http://" + commands.Addr().String() + "/commands",
		"NIMBUS_RETRY_SCHEDULE=" + soakRetrySchedule, "NIMBUS_DELIVERY_TIMEOUT=2s",
	}}
	h.start()
	defer h.stop()
	api := &soakAPI{t: t, base: h.base}
	demo := api.demo()
	sink := newSoakSink(t)
	services := []string{demo.Services.ContactCenter, demo.Services.EnterpriseRouting}
	all := []string{"WorkflowStarted", "SystemAccepted", "ParameterUpdated", "InQueue", "ConnectedToUser", "DestinationReached", "QueueLeft", "Terminated"}
	subs := map[string]string{} // subscription id → path
	for _, path := range []string{"/healthy", "/faulty", "/gone"} {
		subs[api.register(demo, sink.srv.URL+path, services, all)] = path
	}

	var mu sync.Mutex
	accepted := map[string]soakAccepted{}
	opts, err := sim.ParseFlags([]string{"--handler", h.base, "--seed", "11", "--total-rate", fmt.Sprint(rate), "--speed", "60",
		"--summary", "0", "--run-id", fmt.Sprintf("soak-%d", time.Now().Unix())}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	client := &sim.Client{Base: h.base, HTTP: &http.Client{Timeout: 30 * time.Second},
		Tokens: &sim.DevTokens{Base: h.base, TenantID: demo.OperatorTenantID, AppID: "nimbus-core-soak", Roles: []string{"Nimbus.Core", "Nimbus.Admin"}}}
	dir, err := client.Directory(context.Background(), demo.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Config{Client: client, TenantID: demo.TenantID, Seed: opts.Seed, RunID: opts.RunID, TotalRate: rate,
		Speed: opts.Speed, Odds: opts.Odds, Attempts: opts.Attempts, Duration: dur, Log: slog.New(slog.DiscardHandler),
		Accepted: func(evs []nimbus.IngestEvent, deliverable []bool, at time.Time) {
			mu.Lock()
			defer mu.Unlock()
			for i, ev := range evs {
				if _, ok := accepted[ev.EventID]; !ok {
					accepted[ev.EventID] = soakAccepted{at: at, service: ev.ServiceUPN, deliverable: deliverable[i]}
				}
			}
		}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	cmdSrv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = cmdSrv.Serve(commands) }()
	defer cmdSrv.Close()

	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var rss []rssSample
	var faults []string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); rss = sampleRSS(ctx, h, began) }()
	go func() {
		defer wg.Done()
		faults = runFaults(ctx, t, dur, began, sink, h, proxy, proxyAddr)
	}()
	s.Run(context.Background(), 2*time.Minute)
	cancel()
	wg.Wait()
	sent := time.Since(began)
	fmt.Printf("soak: traffic stopped after %s; %d events accepted; waiting for deliveries to settle\n", sent.Round(time.Second), s.Stats().EventsAccepted.Load())

	mu.Lock()
	defer mu.Unlock()
	r := reconcile(t, api, demo, sink, subs, accepted, services, 4*time.Minute)
	r.duration, r.faults, r.rss, r.stats = dur, faults, rss, s.Stats()
	r.cpu = h.totalCPU()
	r.print(os.Stdout)
	if r.lost > 0 || r.rejected > 0 || !r.goneDead {
		t.Errorf("soak failed: %d lost, %d rejected events, 410 subscription dead: %v (handler log: %s)", r.lost, r.rejected, r.goneDead, logs.Name())
	}
}

// soakAPI calls the handler as the demo tenant's admin and as the operator; tokens are
// minted per call, since a restarted handler on Azure storage has a new dev signing key.
type soakAPI struct {
	t    *testing.T
	base string
}

func (a *soakAPI) do(method, path string, tokenReq, body, out any) error {
	tok, err := a.raw("POST", "/dev/token", "", tokenReq)
	if err != nil {
		return err
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(tok, &tr); err != nil {
		return err
	}
	b, err := a.raw(method, path, tr.AccessToken, body)
	if err != nil {
		return err
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (a *soakAPI) raw(method, path, token string, body any) ([]byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return b, nil
}

type soakDemo struct {
	TenantID         string `json:"tenantId"`
	OperatorTenantID string `json:"operatorTenantId"`
	Users            struct {
		TenantAdmin string `json:"tenantAdmin"`
	} `json:"users"`
	Services struct {
		ContactCenter     string `json:"contactCenter"`
		EnterpriseRouting string `json:"enterpriseRouting"`
	} `json:"services"`
}

func (a *soakAPI) demo() soakDemo {
	var d soakDemo
	b, err := a.raw("GET", "/dev/demo", "", nil)
	if err == nil {
		err = json.Unmarshal(b, &d)
	}
	if err != nil {
		a.t.Fatal(err)
	}
	return d
}

func (a *soakAPI) register(d soakDemo, url string, services, events []string) string {
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"config": map[string]any{"url": url, "services": services, "taskEvents": events}}
	if err := a.do("POST", "/v1/triggers/tasks", map[string]string{"tenantId": d.TenantID, "upn": d.Users.TenantAdmin}, body, &out); err != nil {
		a.t.Fatal(err)
	}
	return out.ID
}

// operator calls an admin route of the demo tenant with an operator app token.
func (a *soakAPI) operator(d soakDemo, path string, out any) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return a.do("GET", path+sep+"tenantId="+d.TenantID, map[string]any{"tenantId": d.OperatorTenantID, "appId": "soak-operator", "roles": []string{"Nimbus.Admin"}}, nil, out)
}
