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
)

// The documentation checks: the README, infra/README.md and the Bicep must agree with the
// code about settings, error codes and tool versions, so that an operator following the docs
// never meets a setting or a code that does not exist, or misses one that does.

// docRead reads a file relative to the repository root (tests run in handler/).
func docRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

// docSection returns the text of the "## title" section of a markdown document.
func docSection(t *testing.T, doc, title string) string {
	t.Helper()
	start := strings.Index(doc, "\n## "+title+"\n")
	if start < 0 {
		t.Fatalf("section %q not found", title)
	}
	rest := doc[start+len(title)+5:]
	if end := strings.Index(rest, "\n## "); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

func docUnique(list []string) []string {
	sort.Strings(list)
	return slices.Compact(list)
}

func docMatches(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return docUnique(out)
}

// settingsReadByCode lists every NIMBUS_* name that the handler's wiring reads: the string
// literals of the package main sources (config.go and its neighbours).
func settingsReadByCode(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`"(NIMBUS_[A-Za-z0-9_]+)"`)
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, docMatches(re, string(b))...)
	}
	if len(out) == 0 {
		t.Fatal("found no NIMBUS_* setting in the handler's sources")
	}
	return docUnique(out)
}

// settingsInReadme lists the NIMBUS_* rows of the README's configuration table.
func settingsInReadme(t *testing.T) []string {
	t.Helper()
	section := docSection(t, docRead(t, "README.md"), "Configuration")
	return docMatches(regexp.MustCompile("(?m)^\\| `(NIMBUS_[A-Za-z0-9_]+)`"), section)
}

func docMissing(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

// Every setting the handler reads is a row of the README's configuration table, and every row
// names a setting the handler reads.
func TestReadmeConfigurationMatchesCode(t *testing.T) {
	code, readme := settingsReadByCode(t), settingsInReadme(t)
	if m := docMissing(code, readme); len(m) > 0 {
		t.Errorf("the handler reads %v, but the README's Configuration table has no row for them; add one each", m)
	}
	if m := docMissing(readme, code); len(m) > 0 {
		t.Errorf("the README's Configuration table documents %v, which the handler does not read", m)
	}
}

// settingsNotInBicep are the settings that do not belong in an Azure deployment, with why.
var settingsNotInBicep = map[string]string{
	"NIMBUS_ADDR":                     "standalone listen address; the Functions host sets FUNCTIONS_CUSTOMHANDLER_PORT",
	"NIMBUS_DATA_DIR":                 "embedded store only",
	"NIMBUS_STORAGE":                  "connection string; Azure uses the managed identity (NIMBUS_STORAGE__accountName)",
	"NIMBUS_STORAGE__tableServiceUri": "alternative to NIMBUS_STORAGE__accountName, which the Bicep sets",
	"NIMBUS_SERVICEBUS":               "connection string; Azure uses the managed identity (NIMBUS_SERVICEBUS__fullyQualifiedNamespace)",
	"NIMBUS_DEV_AUTH":                 "refused in Azure",
	"NIMBUS_SEED_DEMO":                "dev auth only",
	"NIMBUS_CALLBACK_ALLOW_INSECURE":  "refused in Azure",
	"NIMBUS_CORE_COMMANDS_URL":        "standalone only; in Azure core reads the nimbus-commands queue",
	"NIMBUS_LOG_FORMAT":               "JSON is the default under the Functions host",
	"NIMBUS_SCHEDULER_SWEEP_INTERVAL": "standalone only; under the Functions host the SchedulerSweep timer's schedule decides",
	"NIMBUS_HTTP_READ_HEADER_TIMEOUT": "the Functions host faces clients in Azure and forwards whole requests over loopback",
	"NIMBUS_HTTP_READ_TIMEOUT":        "the Functions host faces clients in Azure and forwards whole requests over loopback",
	"NIMBUS_HTTP_IDLE_TIMEOUT":        "the Functions host faces clients in Azure and forwards whole requests over loopback",
	"NIMBUS_METRICS_ADDR":             "the metrics listener is off under the Functions host; the host's Application Insights gets the structured logs",
	"NIMBUS_DELIVERY_LOG":             "on by default, as Azure wants it; an app setting turns it off only to measure its cost",

	"NIMBUS_SIM_CLIENT_SECRET": "read by the handler sim subcommand on a developer's machine, never by the deployed handler",
	"NIMBUS_SIM_FUNCTION_KEY":  "read by the handler sim subcommand on a developer's machine, never by the deployed handler",
}

func settingsInBicep(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../infra/*.bicep")
	if err != nil {
		t.Fatal(err)
	}
	mods, err := filepath.Glob("../infra/modules/*.bicep")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^\s*(NIMBUS_[A-Za-z0-9_]+)\s*:`)
	var out []string
	for _, f := range append(files, mods...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, docMatches(re, string(b))...)
	}
	return docUnique(out)
}

// Every setting the handler reads that matters in Azure is an app setting in the Bicep, and
// every NIMBUS_* app setting of the Bicep is explained in infra/README.md.
func TestBicepSetsEveryAzureSetting(t *testing.T) {
	bicep := settingsInBicep(t)
	if len(bicep) == 0 {
		t.Fatal("found no NIMBUS_* app setting in infra/")
	}
	for _, s := range settingsReadByCode(t) {
		if _, local := settingsNotInBicep[s]; local {
			if slices.Contains(bicep, s) {
				t.Errorf("%s is set in the Bicep but listed as not for Azure (%s)", s, settingsNotInBicep[s])
			}
			continue
		}
		if !slices.Contains(bicep, s) {
			t.Errorf("the handler reads %s, but infra/ does not set it: add a parameter to infra/main.bicep (handlerSettings) and a row to infra/README.md, or list it in settingsNotInBicep with the reason", s)
		}
	}
	guide := docRead(t, "infra/README.md")
	for _, s := range bicep {
		if !strings.Contains(guide, "`"+s+"`") {
			t.Errorf("infra/ sets %s, but infra/README.md does not explain it", s)
		}
	}
}

// Every error code the handler can answer is in the README's error table with its status, and
// the table lists no code that is not in use.
func TestReadmeDocumentsEveryErrorCode(t *testing.T) {
	var used []string
	used = append(used, docMatches(regexp.MustCompile(`Kind\s*=\s*"(\w+)"`), docRead(t, "handler/nimbus/errors.go"))...)
	files, err := filepath.Glob("httpapi/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		used = append(used, docMatches(regexp.MustCompile(`Code:\s*"(\w+)"`), string(b))...)
	}
	used = docUnique(used)
	if !slices.Contains(used, "MethodNotAllowed") || !slices.Contains(used, "InvalidArgument") {
		t.Fatalf("error codes found in the code look incomplete: %v", used)
	}
	table := docSection(t, docRead(t, "README.md"), "Error codes")
	documented := docMatches(regexp.MustCompile("(?m)^\\| `(\\w+)` \\| [0-9]{3} \\|"), table)
	if m := docMissing(used, documented); len(m) > 0 {
		t.Errorf("error codes %v are in use but not in the README's Error codes table", m)
	}
	if m := docMissing(documented, used); len(m) > 0 {
		t.Errorf("the README's Error codes table lists %v, which the handler never answers", m)
	}
}

// The Node.js version the README states is the one scripts/test.sh checks for and the one the
// pinned npm tools declare (scripts/package.json "engines"; npm ci --engine-strict enforces it
// for every package in the lock file).
func TestNodeVersionAgrees(t *testing.T) {
	m := regexp.MustCompile(`node_min="([0-9]+)\.([0-9]+)\.([0-9]+)"`).FindStringSubmatch(docRead(t, "scripts/test.sh"))
	if m == nil {
		t.Fatal(`scripts/test.sh does not set node_min="X.Y.Z"`)
	}
	minimum := m[1] + "." + m[2] + "." + m[3]
	var pkg struct {
		Engines map[string]string `json:"engines"`
	}
	if err := json.Unmarshal([]byte(docRead(t, "scripts/package.json")), &pkg); err != nil {
		t.Fatal(err)
	}
	if got := pkg.Engines["node"]; got != ">="+minimum {
		t.Errorf(`scripts/package.json engines.node is %q, want ">=%s" as scripts/test.sh checks`, got, minimum)
	}
	if !strings.Contains(docRead(t, "scripts/test.sh"), "--engine-strict") {
		t.Errorf("scripts/test.sh must install with npm ci --engine-strict")
	}
	readme := docRead(t, "README.md")
	if want := "Node.js " + m[1] + " (" + m[1] + "." + m[2] + " or later"; !strings.Contains(readme, want) {
		t.Errorf("the README does not state %q", want)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal([]byte(docRead(t, "scripts/package-lock.json")), &lock); err != nil {
		t.Fatal(err)
	}
	if lock.Packages["node_modules/standardwebhooks"].Version != "1.1.1" {
		t.Errorf("scripts/package-lock.json must pin standardwebhooks 1.1.1, has %q", lock.Packages["node_modules/standardwebhooks"].Version)
	}
}
