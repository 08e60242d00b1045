package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// binary is the handler built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nimbus-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "handler")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build handler: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running handler process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	stdout *syncBuffer
	stderr *syncBuffer
}

// syncBuffer collects a child's output; the process writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the handler binary with a clean environment plus env, and waits until it
// answers GET /.
func start(t *testing.T, env map[string]string, args ...string) *proc {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), fmt.Sprintf("NIMBUS_ADDR=127.0.0.1:%d", port)}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{t: t, cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	if env["FUNCTIONS_CUSTOMHANDLER_PORT"] != "" {
		p.base = "http://127.0.0.1:" + env["FUNCTIONS_CUSTOMHANDLER_PORT"]
	}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop() })
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(p.base + "/"); err == nil {
			res.Body.Close()
			return p
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop()
	t.Fatalf("handler did not answer GET /\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	return nil
}

// stop sends SIGTERM and waits for a graceful exit.
func (p *proc) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			p.t.Errorf("handler exited with %v\nstderr:\n%s", err, p.stderr)
		}
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		p.t.Errorf("handler did not stop on SIGTERM")
	}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (p *proc) call(method, path, token string, body any) reply {
	p.t.Helper()
	r, err := p.tryCall(method, path, token, body)
	if err != nil {
		p.t.Fatal(err)
	}
	return r
}

// tryCall is call for a handler that may be gone: a transport error is returned.
func (p *proc) tryCall(method, path, token string, body any) (reply, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			p.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.base+path, r)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}, nil
}

func (p *proc) demo() app.DemoInfo {
	p.t.Helper()
	var d app.DemoInfo
	r := p.call("GET", "/dev/demo", "", nil)
	if err := json.Unmarshal(r.body, &d); err != nil || r.status != 200 {
		p.t.Fatalf("GET /dev/demo: %d %s", r.status, r.body)
	}
	return d
}

func (p *proc) token(tenant, upn string) string {
	p.t.Helper()
	r := p.call("POST", "/dev/token", "", map[string]string{"tenantId": tenant, "upn": upn})
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil || r.status != 200 || tok.TokenType != "Bearer" {
		p.t.Fatalf("POST /dev/token: %d %s", r.status, r.body)
	}
	return tok.AccessToken
}

func TestEndToEndAddressBooks(t *testing.T) {
	p := start(t, map[string]string{"NIMBUS_DATA_DIR": t.TempDir()})
	d := p.demo()
	u := d.Users
	tok := map[string]string{}
	for _, upn := range []string{u.TenantAdmin, u.OUAdmin, u.ServiceOwner, u.TeamOwnerLimited, u.PartnerAdmin, u.Supervisor, u.User, "stranger@contoso.com"} {
		tok[upn] = p.token(d.TenantID, upn)
	}
	sales := "/v2/AddressBooks/" + url.PathEscape(d.AddressBooks[0].ID) + "/contacts"
	support := "/v2/AddressBooks/" + url.PathEscape(d.AddressBooks[1].ID) + "/contacts"
	ada := nimbus.Contact{ExternalID: "crm/42#a", FirstName: "Ada", LastName: "Lovelace", EmailAddresses: []string{"ada@example.com"}}

	steps := []struct {
		name   string
		who    string
		method string
		path   string
		body   any
		status int
		want   string // substring of the body
	}{
		{"no token", "", "GET", "/v2/AddressBooks", nil, 401, `"Unauthenticated"`},
		{"admin tests connection", u.TenantAdmin, "GET", "/v1/diagnostics/testconnection", nil, 200, `"roles":["TenantAdmin"]`},
		{"partner admin tests connection", u.PartnerAdmin, "GET", "/v1/diagnostics/testconnection", nil, 200, `"PartnerAdmin"`},
		{"owner tests connection", u.ServiceOwner, "GET", "/v1/diagnostics/testconnection", nil, 200, `"ServiceOwner"`},
		{"limited owner tests connection", u.TeamOwnerLimited, "GET", "/v1/diagnostics/testconnection", nil, 200, `"TeamOwnerLimited"`},
		{"OU admin tests connection", u.OUAdmin, "GET", "/v1/diagnostics/testconnection", nil, 200, `"OUAdmin"`},
		{"supervisor tests connection", u.Supervisor, "GET", "/v1/diagnostics/testconnection", nil, 403, `"Forbidden"`},
		{"user tests connection", u.User, "GET", "/v1/diagnostics/testconnection", nil, 403, `"Forbidden"`},
		{"stranger tests connection", "stranger@contoso.com", "GET", "/v1/diagnostics/testconnection", nil, 403, `no Nimbus role`},
		{"admin lists books", u.TenantAdmin, "GET", "/v2/AddressBooks", nil, 200, `[{"name":"Sales partners","id":"sales-partners"},{"name":"Support vendors","id":"support-vendors"}]`},
		{"OU admin lists books", u.OUAdmin, "GET", "/v2/AddressBooks", nil, 200, `[{"name":"Sales partners","id":"sales-partners"}]`},
		{"owner lists books", u.ServiceOwner, "GET", "/v2/AddressBooks", nil, 403, `"Forbidden"`},
		{"limited owner lists books", u.TeamOwnerLimited, "GET", "/v2/AddressBooks", nil, 403, `"Forbidden"`},
		{"partner lists books", u.PartnerAdmin, "GET", "/v2/AddressBooks", nil, 403, `"Forbidden"`},
		{"supervisor lists books", u.Supervisor, "GET", "/v2/AddressBooks", nil, 403, `"Forbidden"`},
		{"user lists books", u.User, "GET", "/v2/AddressBooks", nil, 403, `"Forbidden"`},
		{"admin adds", u.TenantAdmin, "POST", sales, ada, 200, `"externalId":"crm/42#a"`},
		{"admin adds again", u.TenantAdmin, "POST", sales, ada, 409, `already exists`},
		{"OU admin adds", u.OUAdmin, "POST", sales, nimbus.Contact{ExternalID: "ou-1"}, 200, `"ou-1"`},
		{"OU admin adds to sibling", u.OUAdmin, "POST", support, nimbus.Contact{ExternalID: "x"}, 404, `"NotFound"`},
		{"owner adds", u.ServiceOwner, "POST", sales, nimbus.Contact{ExternalID: "x"}, 403, `"Forbidden"`},
		{"bad field", u.TenantAdmin, "POST", sales, map[string]any{"externalId": "y", "jobTitle": strings.Repeat("j", 129)}, 400, `"target":"jobTitle"`},
		{"admin gets by id", u.TenantAdmin, "GET", sales + "?externalIds=" + url.QueryEscape("crm/42#a,missing"), nil, 200, `"firstName":"Ada"`},
		{"OU admin gets all", u.OUAdmin, "GET", sales, nil, 200, `"ou-1"`},
		{"admin updates", u.TenantAdmin, "PUT", sales, nimbus.Contact{ExternalID: "crm/42#a", FirstName: "Augusta"}, 200, `"Augusta"`},
		{"update missing", u.TenantAdmin, "PUT", sales, nimbus.Contact{ExternalID: "nobody"}, 404, `"NotFound"`},
		{"user updates", u.User, "PUT", sales, nimbus.Contact{ExternalID: "crm/42#a"}, 403, `"Forbidden"`},
		{"read after update", u.TenantAdmin, "GET", sales + "?externalIds=" + url.QueryEscape("crm/42#a"), nil, 200, `"Augusta"`},
		{"OU admin removes", u.OUAdmin, "POST", sales + "/delete", []string{"ou-1", "missing"}, 200, `{"removed":1}`},
		{"supervisor clears", u.Supervisor, "POST", sales + "/clear", nil, 403, `"Forbidden"`},
		{"admin clears", u.TenantAdmin, "POST", sales + "/clear", nil, 200, `{"removed":1}`},
		{"empty after clear", u.TenantAdmin, "GET", sales, nil, 200, `[]`},
	}
	for _, s := range steps {
		r := p.call(s.method, s.path, tok[s.who], s.body)
		if r.status != s.status || !strings.Contains(string(r.body), s.want) {
			t.Errorf("%s: got %d %s, want %d with %s", s.name, r.status, r.body, s.status, s.want)
		}
	}
}

func TestEndToEndRestartKeepsData(t *testing.T) {
	data := t.TempDir()
	p := start(t, map[string]string{"NIMBUS_DATA_DIR": data})
	d := p.demo()
	admin := p.token(d.TenantID, d.Users.TenantAdmin)
	book := "/v2/AddressBooks/" + d.AddressBooks[0].ID + "/contacts"
	if r := p.call("POST", book, admin, nimbus.Contact{ExternalID: "keep-me"}); r.status != 200 {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	// An admin change to the directory must survive the restart too (seeding must not
	// overwrite it).
	r := p.call("GET", "/admin/v1/tenants/"+d.TenantID+"/directory", admin, nil)
	var dir nimbus.Directory
	if err := json.Unmarshal(r.body, &dir); err != nil || r.status != 200 {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	dir.AddressBooks = append(dir.AddressBooks, nimbus.AddressBook{ID: "new-book", Name: "New", OU: d.TenantID})
	if r := p.call("PUT", "/admin/v1/tenants/"+d.TenantID+"/directory", admin, dir); r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	p.stop()

	q := start(t, map[string]string{"NIMBUS_DATA_DIR": data})
	// The dev signing key is kept in the data directory: the old token still works.
	r = q.call("GET", book, admin, nil)
	if r.status != 200 || !strings.Contains(string(r.body), "keep-me") {
		t.Errorf("after restart: %d %s", r.status, r.body)
	}
	r = q.call("GET", "/v2/AddressBooks", admin, nil)
	if got := strings.Count(string(r.body), `"id"`); got != 3 || !strings.Contains(string(r.body), "new-book") {
		t.Errorf("books after restart: %s", r.body)
	}
}

func TestEndToEndFunctionsHost(t *testing.T) {
	port := freePort(t)
	p := start(t, map[string]string{
		"NIMBUS_DATA_DIR":              t.TempDir(),
		"FUNCTIONS_CUSTOMHANDLER_PORT": fmt.Sprint(port),
		"NIMBUS_DEV_AUTH":              "true",
	})
	d := p.demo()
	admin := p.token(d.TenantID, d.Users.TenantAdmin)

	// Forwarded HTTP: the original path.
	if r := p.call("GET", "/v1/diagnostics/testconnection", admin, nil); r.status != 200 {
		t.Errorf("forwarded request: %d %s", r.status, r.body)
	}
	// Payload mode: the host posts an invocation to /{FunctionName}.
	inv := map[string]any{
		"Data": map[string]any{"req": map[string]any{
			"Url": "http://localhost:7071/v1/diagnostics/testconnection", "Method": "GET",
			"Query": map[string]string{}, "Headers": map[string][]string{"Authorization": {"Bearer " + admin}},
			"Params": map[string]string{},
		}},
		"Metadata": map[string]any{"sys": map[string]string{"MethodName": "Diagnostics"}},
	}
	r := p.call("POST", "/Diagnostics", "", inv)
	var out struct {
		Outputs struct {
			Res struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			} `json:"res"`
		}
	}
	if err := json.Unmarshal(r.body, &out); err != nil || r.status != 200 {
		t.Fatalf("invocation: %d %s", r.status, r.body)
	}
	if out.Outputs.Res.StatusCode != 200 || !strings.Contains(out.Outputs.Res.Body, `"tenantId":"`+d.TenantID) {
		t.Errorf("invocation result: %+v", out.Outputs.Res)
	}
	// An HTTP 401 inside payload mode is still a successful invocation.
	inv["Data"].(map[string]any)["req"].(map[string]any)["Headers"] = map[string][]string{}
	r = p.call("POST", "/Diagnostics", "", inv)
	if err := json.Unmarshal(r.body, &out); err != nil || r.status != 200 || out.Outputs.Res.StatusCode != 401 {
		t.Errorf("unauthenticated invocation: %d %s", r.status, r.body)
	}
	if strings.Contains(p.stdout.String(), "Demo tenant") {
		t.Error("banner printed under the Functions host")
	}
}

func TestDevAuthRefusedInAzure(t *testing.T) {
	cmd := exec.Command(binary)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "WEBSITE_SITE_NAME=nimbus-prod", "NIMBUS_DEV_AUTH=true", "NIMBUS_DATA_DIR=" + t.TempDir(), fmt.Sprintf("NIMBUS_ADDR=127.0.0.1:%d", freePort(t))}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "WEBSITE_SITE_NAME") {
		t.Errorf("dev auth in Azure: err %v, output %s", err, out)
	}
}

// --directory FILE imports the file at start and replaces what is stored for that tenant.
func TestEndToEndDirectoryFile(t *testing.T) {
	const tenant = "7f3e2d1c-0b9a-4876-9543-210fedcba987"
	dir := nimbus.Directory{
		TenantID:     tenant,
		OUs:          []nimbus.OU{{ID: tenant, Name: "Fabrikam"}, {ID: "east", Name: "East", Parent: tenant}},
		Services:     []nimbus.Service{{ID: "s1", UPN: "hotline@fabrikam.com", Name: "Hotline", OU: "east", License: nimbus.LicenseEnterpriseRouting, WorkflowValid: true}},
		Users:        []nimbus.User{{UPN: "boss@fabrikam.com", OU: tenant, Roles: []nimbus.Role{nimbus.RoleTenantAdmin}}},
		AddressBooks: []nimbus.AddressBook{{ID: "east-book", Name: "East", OU: "east"}},
	}
	file := filepath.Join(t.TempDir(), "fabrikam.json")
	data, _ := json.Marshal([]nimbus.Directory{dir})
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, map[string]string{"NIMBUS_DATA_DIR": t.TempDir()}, "--directory", file)
	tok := p.token(tenant, "boss@fabrikam.com")
	r := p.call("GET", "/v2/AddressBooks", tok, nil)
	if r.status != 200 || string(r.body) != `[{"name":"East","id":"east-book"}]` {
		t.Errorf("books of the imported tenant: %d %s", r.status, r.body)
	}
	if r := p.call("GET", "/v1/diagnostics/testconnection", tok, nil); r.status != 200 {
		t.Errorf("test connection: %d %s", r.status, r.body)
	}

	// A broken file stops the start with a message naming the entry.
	dir.Services[0].OU = "west"
	data, _ = json.Marshal(dir)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "--directory", file)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NIMBUS_DATA_DIR=" + t.TempDir(), fmt.Sprintf("NIMBUS_ADDR=127.0.0.1:%d", freePort(t))}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "services[0].ou") {
		t.Errorf("broken directory file: err %v, output %s", err, out)
	}
}
