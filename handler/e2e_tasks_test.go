package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// command is a command as Nimbus core receives it.
type command struct {
	CommandID    string              `json:"commandId"`
	Type         string              `json:"type"`
	TaskID       string              `json:"taskId"`
	Changes      *nimbus.TaskChanges `json:"changes"`
	ExternalTask map[string]any      `json:"externalTask"`
}

func (f *flow) commands(t *testing.T, n int) []command {
	t.Helper()
	var out []command
	for _, r := range f.sink.wait("/core", n, 10*time.Second) {
		var c command
		if err := json.Unmarshal(r.body, &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func startTaskFlow(t *testing.T, env map[string]string) *flow {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	// The sink plays Nimbus core: commands are POSTed to it.
	s := newSink(t)
	env["NIMBUS_CORE_COMMANDS_URL"] = s.url("/core")
	f := startFlow(t, env)
	f.sink = s
	return f
}

// A flow-style scenario: a call starts, the flow enriches it with CRM data, core receives
// exactly that change, and the next notification carries it.
func TestTaskUpdateFlow(t *testing.T) {
	f := startTaskFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/flow", []string{cc}, []string{"WorkflowStarted", "InQueue", "ParameterUpdated", "ConnectedToUser"}, nil, nil)
	f.ingest(f.ev("call-42", 1, "WorkflowStarted", cc, "Audio", "Inbound"), f.ev("call-42", 2, "InQueue", cc, "Audio", "Inbound"))
	f.sink.wait("/flow", 2, 10*time.Second)

	update := map[string]any{
		"customer":                map[string]any{"firstName": "Ada", "company": "Analytical Engines"},
		"customContextParameters": []map[string]string{{"name": "crmId", "value": "42"}},
	}
	r := f.call("PUT", "/v1/tasks/call-42", f.owner, update)
	if r.status != 200 || !strings.Contains(string(r.body), `"firstName":"Ada"`) || !strings.Contains(string(r.body), `"crmId"`) {
		t.Fatalf("update task: %d %s", r.status, r.body)
	}
	cmds := f.commands(t, 1)
	c := cmds[0]
	if c.Type != "TaskUpdated" || c.TaskID != "call-42" || c.Changes == nil {
		t.Fatalf("command: %+v", c)
	}
	if got := fmt.Sprint(c.Changes.Customer); got != "map[company:Analytical Engines firstName:Ada]" {
		t.Errorf("command customer changes: %s", got)
	}
	if len(c.Changes.CustomContextParameters) != 1 || c.Changes.CustomContextParameters[0] != (nimbus.Parameter{Name: "crmId", Value: "42"}) || c.Changes.PreferredUsersReplaced {
		t.Errorf("command parameter changes: %+v", c.Changes)
	}

	f.ingest(f.ev("call-42", 3, "ConnectedToUser", cc, "Audio", "Inbound"))
	got := f.sink.wait("/flow", 3, 10*time.Second)
	last := got[2]
	if field(last, "event") != "ConnectedToUser" || !strings.Contains(field(last, "taskInformation"), `"firstName":"Ada"`) || !strings.Contains(field(last, "taskInformation"), `"crmId"`) {
		t.Errorf("next notification lacks the update: %s", last.body)
	}
	// Update task raised no ParameterUpdated: the flow would loop on it.
	for _, r := range f.sink.at("/flow") {
		if field(r, "event") == "ParameterUpdated" {
			t.Errorf("Update task raised ParameterUpdated")
		}
	}

	f.ingest(f.ev("call-42", 4, "Terminated", cc, "Audio", "Inbound"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := f.call("PUT", "/v1/tasks/call-42", f.owner, update)
		if r.status == 409 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("update after Terminated: %d %s, want 409", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestExternalTaskFlow(t *testing.T) {
	f := startTaskFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/ext", []string{cc}, []string{"WorkflowStarted", "InQueue", "Terminated"}, []string{"ExternalTask"}, nil)
	r := f.call("POST", "/v1/ExternalTasks", f.owner, map[string]any{
		"serviceUpn": cc, "customerIdentifier": "cust-1", "customer": map[string]string{"firstName": "Grace"},
		"distributionPriority": "High", "customContextParameters": []map[string]string{{"name": "ticket", "value": "T-9"}},
	})
	var res nimbus.ExternalTaskResult
	if err := json.Unmarshal(r.body, &res); err != nil || r.status != 200 {
		t.Fatalf("add external task: %d %s", r.status, r.body)
	}
	if res.ID == "" || res.Modality != nimbus.ModalityExternalTask || res.IsAnonymous || res.ServiceUPN != cc || res.ServiceID == "" {
		t.Errorf("result: %+v", res)
	}
	added := f.commands(t, 1)[0]
	if added.Type != "ExternalTaskAdded" || added.TaskID != res.ID || added.ExternalTask["distributionPriority"] != "High" {
		t.Errorf("command: %+v", added)
	}
	f.ingest(f.ev(res.ID, 1, "WorkflowStarted", cc, "ExternalTask", "Inbound"), f.ev(res.ID, 2, "InQueue", cc, "ExternalTask", "Inbound"))
	got := f.sink.wait("/ext", 2, 10*time.Second)
	if field(got[1], "modality") != "ExternalTask" || !strings.Contains(field(got[1], "taskInformation"), "T-9") || field(got[1], "customerIdentifier") != "cust-1" {
		t.Errorf("notification: %s", got[1].body)
	}
	for i, want := range []string{"Removed", "Removed"} {
		r := f.call("DELETE", "/v1/ExternalTasks/"+res.ID, f.owner, nil)
		if r.status != 200 || !strings.Contains(string(r.body), want) {
			t.Errorf("remove #%d: %d %s", i+1, r.status, r.body)
		}
	}
	cmds := f.commands(t, 2)
	if cmds[1].Type != "ExternalTaskRemoved" || cmds[1].TaskID != res.ID {
		t.Errorf("remove command: %+v", cmds[1])
	}
	f.ingest(f.ev(res.ID, 3, "Terminated", cc, "ExternalTask", "Inbound"))
	if got := f.sink.wait("/ext", 3, 10*time.Second); field(got[2], "event") != "Terminated" {
		t.Errorf("terminated: %s", got[2].body)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(f.sink.at("/core")); n != 2 {
		t.Errorf("core received %d commands, want 2 (a repeated removal sends nothing)", n)
	}
	if r := f.call("DELETE", "/v1/ExternalTasks/no-such-task", f.owner, nil); r.status != 404 {
		t.Errorf("remove unknown: %d", r.status)
	}
}

func TestExternalTaskLimitsAndLicensing(t *testing.T) {
	f := startTaskFlow(t, map[string]string{"NIMBUS_MAX_OPEN_EXTERNAL_TASKS": "2"})
	cc, sales := f.demo.Services.ContactCenter, f.demo.Services.EnterpriseRouting
	add := func(svc string) reply {
		return f.call("POST", "/v1/ExternalTasks", f.owner, map[string]any{"serviceUpn": svc})
	}
	if r := add(sales); r.status != 400 || !strings.Contains(string(r.body), "ContactCenter") {
		t.Errorf("EnterpriseRouting service: %d %s", r.status, r.body)
	}
	var ids []string
	for range 2 {
		r := add(cc)
		var res nimbus.ExternalTaskResult
		if err := json.Unmarshal(r.body, &res); err != nil || r.status != 200 || !res.IsAnonymous {
			t.Fatalf("add: %d %s", r.status, r.body)
		}
		ids = append(ids, res.ID)
	}
	r := add(cc)
	if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "limit of 2 open external tasks") {
		t.Errorf("third open task: %d %s", r.status, r.body)
	}
	if r := f.call("DELETE", "/v1/ExternalTasks/"+ids[0], f.owner, nil); r.status != 200 {
		t.Fatalf("remove: %d", r.status)
	}
	if r := add(cc); r.status != 200 {
		t.Errorf("after a removal: %d %s", r.status, r.body)
	}
	// The modality must be enabled.
	d := f.directory(t)
	for i := range d.Services {
		if d.Services[i].UPN == cc {
			d.Services[i].Modalities = []nimbus.Modality{nimbus.ModalityAudio}
		}
	}
	f.putDirectory(t, d)
	if r := add(cc); r.status != 400 || !strings.Contains(string(r.body), "ExternalTask modality") {
		t.Errorf("modality disabled: %d %s", r.status, r.body)
	}
}

func (f *flow) directory(t *testing.T) nimbus.Directory {
	t.Helper()
	r := f.call("GET", "/admin/v1/tenants/"+f.demo.TenantID+"/directory", f.admin, nil)
	var d nimbus.Directory
	if err := json.Unmarshal(r.body, &d); err != nil || r.status != 200 {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	return d
}

func (f *flow) putDirectory(t *testing.T, d nimbus.Directory) {
	t.Helper()
	if r := f.call("PUT", "/admin/v1/tenants/"+f.demo.TenantID+"/directory", f.admin, d); r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
}

func TestTaskActionsRolesAndLimits(t *testing.T) {
	f := startTaskFlow(t, nil)
	cc, sales := f.demo.Services.ContactCenter, f.demo.Services.EnterpriseRouting
	u := f.demo.Users
	// A service in the Support OU owned by the service owner, who sits in Sales: the owner
	// cannot see it (sibling OU), the tenant admin can.
	d := f.directory(t)
	d.Services = append(d.Services, nimbus.Service{ID: "svc-hidden", UPN: "hidden@contoso.com", Name: "Hidden", OU: "ou-support",
		License: nimbus.LicenseContactCenter, WorkflowValid: true, Modalities: []nimbus.Modality{nimbus.ModalityAudio}, Owners: []string{u.ServiceOwner}})
	f.putDirectory(t, d)
	f.ingest(f.ev("cc-1", 1, "InQueue", cc, "Audio", "Inbound"), f.ev("er-1", 1, "InQueue", sales, "Audio", "Inbound"),
		f.ev("hid-1", 1, "InQueue", "hidden@contoso.com", "Audio", "Inbound"))
	time.Sleep(500 * time.Millisecond) // let the projection catch up

	tok := map[string]string{}
	for _, upn := range []string{u.TenantAdmin, u.OUAdmin, u.ServiceOwner, u.TeamOwnerLimited, u.PartnerAdmin, u.Supervisor, u.User} {
		tok[upn] = f.token(f.demo.TenantID, upn)
	}
	param := map[string]any{"customContextParameters": []map[string]string{{"name": "p", "value": "v"}}}
	long := strings.Repeat("x", 257)
	cases := []struct {
		name   string
		who    string
		task   string
		body   any
		status int
		target string
	}{
		{"tenant admin", u.TenantAdmin, "cc-1", param, 200, ""},
		{"service owner", u.ServiceOwner, "cc-1", param, 200, ""},
		{"owner of a service in a sibling OU", u.ServiceOwner, "hid-1", param, 404, ""},
		{"tenant admin sees the sibling OU", u.TenantAdmin, "hid-1", param, 200, ""},
		{"team owner limited", u.TeamOwnerLimited, "cc-1", param, 403, ""},
		{"OU admin", u.OUAdmin, "cc-1", param, 403, ""},
		{"partner admin", u.PartnerAdmin, "cc-1", param, 403, ""},
		{"supervisor", u.Supervisor, "cc-1", param, 403, ""},
		{"user", u.User, "cc-1", param, 403, ""},
		{"unknown task", u.TenantAdmin, "nope", param, 404, ""},
		{"customer field too long", u.TenantAdmin, "cc-1", map[string]any{"customer": map[string]string{"firstName": long}}, 400, "customer.firstName"},
		{"parameter name too long", u.TenantAdmin, "cc-1", map[string]any{"customContextParameters": []map[string]string{{"name": long[:65], "value": "v"}}}, 400, "customContextParameters[0].name"},
		{"parameter value too long", u.TenantAdmin, "cc-1", map[string]any{"customContextParameters": []map[string]string{{"name": "n", "value": strings.Repeat("v", 5121)}}}, 400, "customContextParameters[0].value"},
		{"parameter without name", u.TenantAdmin, "cc-1", map[string]any{"customContextParameters": []map[string]string{{"value": "v"}}}, 400, "customContextParameters[0].name"},
		{"priority out of range", u.TenantAdmin, "cc-1", map[string]any{"preferredUsers": []map[string]any{{"upn": u.ServiceOwner, "priority": 100}}}, 400, "preferredUsers[0].priority"},
		{"explicit priority zero", u.TenantAdmin, "cc-1", map[string]any{"preferredUsers": []map[string]any{{"upn": u.ServiceOwner, "priority": 0}}}, 400, "preferredUsers[0].priority"},
		{"too many preferred users", u.TenantAdmin, "cc-1", map[string]any{"preferredUsers": manyUsers(11, u.ServiceOwner)}, 400, "preferredUsers"},
		{"unknown preferred user", u.TenantAdmin, "cc-1", map[string]any{"preferredUsers": []map[string]any{{"upn": "ghost@contoso.com", "priority": 1}}}, 400, "preferredUsers[0].upn"},
		{"preferred users need ContactCenter", u.TenantAdmin, "er-1", map[string]any{"preferredUsers": []map[string]any{{"upn": u.ServiceOwner, "priority": 1}}}, 400, "preferredUsers"},
		{"preferred users", u.ServiceOwner, "cc-1", map[string]any{"preferredUsers": []map[string]any{{"upn": u.TeamOwnerLimited, "priority": 1}}}, 200, ""},
	}
	for _, c := range cases {
		r := f.call("PUT", "/v1/tasks/"+c.task, tok[c.who], c.body)
		if r.status != c.status || c.target != "" && !strings.Contains(string(r.body), `"target":"`+c.target+`"`) {
			t.Errorf("%s: got %d %s, want %d %s", c.name, r.status, r.body, c.status, c.target)
		}
	}
	if r := f.call("GET", "/v1/tasks/users-for-preferred-routing", f.owner, nil); r.status != 200 || strings.Contains(string(r.body), u.Supervisor) || !strings.Contains(string(r.body), u.TeamOwnerLimited) {
		t.Errorf("users for preferred routing (owner in Sales must not see Support users): %s", r.body)
	}
	if r := f.call("GET", "/v1/ExternalTasks/service-contacts", f.owner, nil); string(r.body) != `["`+cc+`"]` {
		t.Errorf("external task services: %s", r.body)
	}
}

func manyUsers(n int, upn string) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"upn": upn, "priority": i + 1}
	}
	return out
}

// Parallel updates of one task keep every parameter: none is lost to a race.
func TestParallelTaskUpdates(t *testing.T) {
	f := startTaskFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.ingest(f.ev("par", 1, "InQueue", cc, "Audio", "Inbound"))
	time.Sleep(300 * time.Millisecond)
	const n = 12
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.tryCall("PUT", "/v1/tasks/par", f.owner, map[string]any{"customContextParameters": []map[string]string{{"name": fmt.Sprintf("p%d", i), "value": "v"}}})
			if err != nil || r.status != 200 {
				t.Errorf("update %d: %v %d %s", i, err, r.status, r.body)
			}
		}()
	}
	wg.Wait()
	r := f.call("PUT", "/v1/tasks/par", f.owner, map[string]any{})
	var info nimbus.TaskInformation
	if err := json.Unmarshal(r.body, &info); err != nil || len(info.CustomContextParameters) != n {
		t.Errorf("after %d parallel updates: %d parameters (%s)", n, len(info.CustomContextParameters), r.body)
	}
	f.commands(t, n+1)
}

// The dropdowns answer per the role matrix and show only what the caller may use.
func TestDropdownsAndActionRoles(t *testing.T) {
	f := startTaskFlow(t, nil)
	u, s := f.demo.Users, f.demo.Services
	tok := func(upn string) string { return f.token(f.demo.TenantID, upn) }
	cases := []struct {
		who, path string
		status    int
		want      string
	}{
		{u.TenantAdmin, "/v1/tasks/service-contacts", 200, `["` + s.ContactCenter + `","` + s.EnterpriseRouting + `"]`},
		{u.ServiceOwner, "/v1/tasks/service-contacts", 200, `["` + s.ContactCenter + `","` + s.EnterpriseRouting + `"]`},
		{u.TeamOwnerLimited, "/v1/tasks/service-contacts", 403, ""},
		{u.OUAdmin, "/v1/tasks/events", 200, `{"name":"In Queue","value":"InQueue"}`},
		{u.TeamOwnerLimited, "/v1/tasks/modalities", 200, `{"name":"External Task","value":"ExternalTask"}`},
		{u.ServiceOwner, "/v1/tasks/directions", 200, `[{"name":"Inbound","value":"Inbound"},{"name":"Outbound","value":"Outbound"}]`},
		{u.PartnerAdmin, "/v1/tasks/events", 403, ""},
		{u.Supervisor, "/v1/tasks/modalities", 403, ""},
		{u.ServiceOwner, "/v1/ExternalTasks/distribution-priorities", 200, `{"name":"Strict","value":"Strict"}`},
		{u.OUAdmin, "/v1/ExternalTasks/distribution-priorities", 403, ""},
		{u.TenantAdmin, "/v1/tasks/users-for-preferred-routing", 200, u.Supervisor},
	}
	for _, c := range cases {
		r := f.call("GET", c.path, tok(c.who), nil)
		if r.status != c.status || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s GET %s: %d %s, want %d with %s", c.who, c.path, r.status, r.body, c.status, c.want)
		}
	}
	for _, who := range []string{u.TeamOwnerLimited, u.OUAdmin, u.PartnerAdmin, u.Supervisor, u.User} {
		r := f.call("POST", "/v1/ExternalTasks", tok(who), map[string]any{"serviceUpn": s.ContactCenter})
		if r.status != 403 {
			t.Errorf("%s adds an external task: %d %s", who, r.status, r.body)
		}
		if r := f.call("POST", "/v1/triggers/tasks", tok(who), map[string]any{"config": map[string]any{"url": f.sink.url("/x"), "services": []string{s.ContactCenter}, "taskEvents": []string{"InQueue"}}}); r.status != 403 {
			t.Errorf("%s registers a task trigger: %d %s", who, r.status, r.body)
		}
	}
	if r := f.call("POST", "/internal/v1/task-events", f.admin, []map[string]any{f.ev("x", 1, "InQueue", s.ContactCenter, "Audio", "Inbound")}); r.status != 403 {
		t.Errorf("a user token on the ingest API: %d", r.status)
	}
}
