package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/funchost"
	"github.com/nimbusflow/connector/handler/httpapi"
)

// route is one registered pattern of the REST surface, e.g. "GET /v2/AddressBooks".
type route struct{ method, path string }

// productionRoutes are the routes served in Azure: dev routes and the host probe excluded.
func productionRoutes(t *testing.T) []route {
	t.Helper()
	var out []route
	for _, p := range httpapi.New(httpapi.Config{}).Routes() {
		method, path, _ := strings.Cut(p, " ")
		if path == "/{$}" {
			continue // the host's readiness probe, not a function
		}
		if strings.HasPrefix(path, "/admin/") {
			continue // the host reserves /admin; the same routes are published under /manage
		}
		out = append(out, route{method, path})
	}
	return out
}

// samplePath turns a router pattern into a concrete path.
func samplePath(pattern string) string {
	return regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(pattern, "sample")
}

type function struct {
	name    string
	methods []string
	re      *regexp.Regexp
	trigger string
}

// templateRegexp compiles an ASP.NET route template as the Functions host matches it:
// case-insensitive literals, {x} one segment, {x?} an optional segment, {*x} the rest
// (possibly empty).
func templateRegexp(t *testing.T, tmpl string) *regexp.Regexp {
	t.Helper()
	var b strings.Builder
	b.WriteString(`(?i)^`)
	for _, seg := range strings.Split(tmpl, "/") {
		switch {
		case strings.HasPrefix(seg, "{*"):
			b.WriteString(`(/.*)?`)
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "?}"):
			b.WriteString(`(/[^/]+)?`)
		case strings.HasPrefix(seg, "{"):
			b.WriteString(`/[^/]+`)
		default:
			b.WriteString("/" + regexp.QuoteMeta(seg))
		}
	}
	b.WriteString(`/?$`)
	return regexp.MustCompile(b.String())
}

func readFunctions(t *testing.T) []function {
	t.Helper()
	files, err := filepath.Glob("../functions/*/function.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no function.json files: %v", err)
	}
	var out []function
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Bindings []struct {
				Type, Direction, Name, Route string
				Methods                      []string
			}
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		fn := function{name: filepath.Base(filepath.Dir(f))}
		var ins, outs int
		for _, b := range doc.Bindings {
			if b.Direction == "in" {
				ins++
				fn.trigger = b.Type
			} else {
				outs++
			}
			if b.Type == "httpTrigger" {
				fn.re = templateRegexp(t, b.Route)
				for _, m := range b.Methods {
					fn.methods = append(fn.methods, strings.ToUpper(m))
				}
			}
		}
		if fn.trigger == "httpTrigger" && (ins != 1 || outs != 1) {
			t.Errorf("%s: an HTTP function needs exactly one httpTrigger in and one http out for request forwarding", fn.name)
		}
		out = append(out, fn)
	}
	return out
}

// The admin API is served under both prefixes, so /manage/v1 publishes all of /admin/v1.
func TestAdminRoutesHaveManageTwins(t *testing.T) {
	all := httpapi.New(httpapi.Config{}).Routes()
	for _, p := range all {
		if strings.Contains(p, " /admin/v1/") {
			twin := strings.Replace(p, " /admin/v1/", " /manage/v1/", 1)
			if !slices.Contains(all, twin) {
				t.Errorf("%s has no twin %s reachable through the Admin function", p, twin)
			}
		}
	}
}

// Every public route is reachable through some function, and every function route and method
// is served by the router.
func TestFunctionsMatchRouter(t *testing.T) {
	routes := productionRoutes(t)
	fns := readFunctions(t)
	for _, r := range routes {
		found := false
		for _, fn := range fns {
			if fn.re != nil && slices.Contains(fn.methods, r.method) && fn.re.MatchString(samplePath(r.path)) {
				found = true
			}
		}
		if !found {
			t.Errorf("route %s %s is not reachable through any function.json", r.method, r.path)
		}
	}
	var httpNames []string
	for _, fn := range fns {
		if fn.re == nil {
			continue
		}
		httpNames = append(httpNames, fn.name)
		for _, m := range fn.methods {
			served := false
			for _, r := range routes {
				if r.method == m && fn.re.MatchString(samplePath(r.path)) {
					served = true
				}
			}
			if !served {
				t.Errorf("function %s accepts %s but the router serves no %s route under it", fn.name, m, m)
			}
		}
	}
	sort.Strings(httpNames)
	want := slices.Clone(httpFunctions)
	sort.Strings(want)
	if !slices.Equal(httpNames, want) {
		t.Errorf("HTTP function folders %v, but the handler serves payload invocations for %v", httpNames, want)
	}
}

// Every operation of the connector definitions is served, and every connector route (/v1,
// /v2) is in a definition.
func TestConnectorMatchesRouter(t *testing.T) {
	files, _ := filepath.Glob("../connector/*.swagger.json")
	if len(files) == 0 {
		t.Fatal("no connector definitions")
	}
	defined := map[route]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			BasePath string                                `json:"basePath"`
			Paths    map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for path, ops := range doc.Paths {
			for method, raw := range ops {
				var op struct {
					OperationID string `json:"operationId"`
				}
				if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
					continue // parameters or extensions at path level
				}
				full := strings.TrimRight(doc.BasePath, "/") + path
				defined[route{strings.ToUpper(method), samplePath(full)}] = op.OperationID
			}
		}
	}
	served := map[route]bool{}
	for _, r := range productionRoutes(t) {
		key := route{r.method, samplePath(r.path)}
		served[key] = true
		if strings.HasPrefix(r.path, "/v1/") || strings.HasPrefix(r.path, "/v2/") {
			if _, ok := defined[key]; !ok {
				t.Errorf("connector route %s %s is in no connector definition", r.method, r.path)
			}
		}
	}
	for r, id := range defined {
		if !served[r] {
			t.Errorf("operation %s (%s %s) is not served", id, r.method, r.path)
		}
	}
}

// The consumer and timer tables and the serviceBusTrigger and timerTrigger folders of
// functions/ describe the same functions: every row has its folder with the same queue or
// schedule, and every such folder has its row.
func TestFunctionTablesMatchFolders(t *testing.T) {
	files, err := filepath.Glob("../functions/*/function.json")
	if err != nil {
		t.Fatal(err)
	}
	type folder struct{ trigger, queue, schedule string }
	folders := map[string]folder{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Bindings []struct {
				Type, Direction, Name, QueueName, Schedule string
			}
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, b := range doc.Bindings {
			if b.Direction != "in" || (b.Type != "serviceBusTrigger" && b.Type != "timerTrigger") {
				continue
			}
			name := filepath.Base(filepath.Dir(f))
			folders[name] = folder{trigger: b.Type, queue: b.QueueName, schedule: b.Schedule}
			if want := map[string]string{"serviceBusTrigger": "message", "timerTrigger": "timer"}[b.Type]; b.Name != want {
				t.Errorf("%s: binding name %q, want %q (the name funchost reads)", name, b.Name, want)
			}
		}
	}
	var parts pipelineParts
	rows := map[string]folder{}
	for _, c := range parts.consumers() {
		rows[c.Function] = folder{trigger: "serviceBusTrigger", queue: c.Queue}
		if c.Workers < 1 {
			t.Errorf("consumer %s: %d workers", c.Function, c.Workers)
		}
	}
	for _, tm := range parts.timers() {
		rows[tm.Function] = folder{trigger: "timerTrigger", schedule: tm.Schedule}
		if _, err := funchost.Every(tm.Schedule); err != nil {
			t.Errorf("timer %s: the embedded runner cannot tick it: %v", tm.Function, err)
		}
	}
	for name, row := range rows {
		if got, ok := folders[name]; !ok {
			t.Errorf("table row %s has no functions/%s folder", name, name)
		} else if got != row {
			t.Errorf("functions/%s is %+v, the table says %+v", name, got, row)
		}
	}
	for name := range folders {
		if _, ok := rows[name]; !ok {
			t.Errorf("functions/%s has no row in the consumer or timer table", name)
		}
	}
}
