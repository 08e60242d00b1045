package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// docGuides are the documents an operator or developer follows.
var docGuides = []string{"README.md", "infra/README.md", "connector/README.md", "connector/core-contract/README.md"}

// docNotInTheRepository are paths the docGuides name that a user creates (or a tool builds).
var docNotInTheRepository = map[string]bool{
	"infra/main.parameters.json": true, // the operator's copy of the example
}

// Every repository path a guide names in backquotes exists (a glob matches at least one
// file), and every script it names is executable.
func TestGuidesNameExistingFiles(t *testing.T) {
	pathRe := regexp.MustCompile("`((?:scripts|infra|connector|handler|functions)/[A-Za-z0-9_.*/-]+|local\\.settings\\.example\\.json|host\\.json|go\\.mod)`")
	checked := 0
	for _, guide := range docGuides {
		for _, m := range pathRe.FindAllStringSubmatch(docRead(t, guide), -1) {
			p := strings.TrimSuffix(m[1], "/")
			if docNotInTheRepository[p] || strings.Contains(p, "node_modules") {
				continue
			}
			checked++
			full := filepath.Join("..", p)
			if strings.Contains(p, "*") {
				if found, _ := filepath.Glob(full); len(found) == 0 {
					t.Errorf("%s names %s, which matches no file", guide, p)
				}
				continue
			}
			info, err := os.Stat(full)
			if err != nil {
				t.Errorf("%s names %s, which does not exist", guide, p)
				continue
			}
			if strings.HasSuffix(p, ".sh") && info.Mode()&0o111 == 0 {
				t.Errorf("%s names the script %s, which is not executable", guide, p)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d paths found in the docGuides; the pattern is probably broken", checked)
	}
}

// The docGuides name the scripts' real options.
func TestGuidesUseRealScriptOptions(t *testing.T) {
	deploy := docRead(t, "scripts/deploy.sh")
	for _, opt := range []string{"--infra-only", "--code-only", "--app", "-g", "-l", "-p"} {
		if !strings.Contains(deploy, opt+")") && !strings.Contains(deploy, opt+" |") {
			t.Errorf("scripts/deploy.sh has no option %s, which the docGuides use", opt)
		}
	}
	for _, guide := range []string{"README.md", "infra/README.md"} {
		for _, m := range regexp.MustCompile(`scripts/deploy\.sh((?: -{1,2}[a-z-]+(?: [^ \n-][^ \n]*)?)*)`).FindAllStringSubmatch(docRead(t, guide), -1) {
			for _, f := range regexp.MustCompile(`(?:^| )(-{1,2}[a-z-]+)`).FindAllStringSubmatch(m[1], -1) {
				if !strings.Contains(deploy, f[1]+")") && !strings.Contains(deploy, f[1]+" |") {
					t.Errorf("%s calls scripts/deploy.sh with %s, which it does not accept", guide, f[1])
				}
			}
		}
	}
}

// The migration map in connector/README.md names every task event with the legacy name the
// code serves to legacy subscriptions.
func TestMigrationMapMatchesTaskEvents(t *testing.T) {
	doc := docRead(t, "connector/README.md")
	start := strings.Index(doc, "### Task events")
	if start < 0 {
		t.Fatal(`connector/README.md has no "### Task events" migration table`)
	}
	section := doc[start:]
	if end := strings.Index(section[3:], "\n### "); end >= 0 {
		section = section[:end+3]
	}
	rows := regexp.MustCompile("(?m)^\\| ([^|`]+?) \\| `(\\w+)` \\| ([^|]+?) \\|$").FindAllStringSubmatch(section, -1)
	got := map[string][2]string{}
	for _, r := range rows {
		got[r[2]] = [2]string{r[1], r[3]}
	}
	for _, e := range nimbus.TaskEvents {
		row, ok := got[string(e.Event)]
		if !ok {
			t.Errorf("the migration map has no row for %s", e.Event)
			continue
		}
		if row[0] != e.Legacy || row[1] != e.Name {
			t.Errorf("migration map row for %s: legacy %q, name %q; the code says %q, %q", e.Event, row[0], row[1], e.Legacy, e.Name)
		}
		delete(got, string(e.Event))
	}
	for ev := range got {
		t.Errorf("the migration map lists %s, which is not a task event", ev)
	}
	for _, op := range []string{"GetOnNewTasks", "GetOnUpdatedTasks", "UpdateTask", "AddExternalTask", "RemoveExternalTask",
		"AddOrUpdateContact", "GetContacts", "RemoveContacts", "ClearContacts", "GetOnUpdatedOutboundTask",
		"AddOrUpdateOutboundTask", "GetOutboundTasks", "RemoveOutboundTask"} {
		if !regexp.MustCompile(`(?m)^\| ` + op + `\b`).MatchString(doc) {
			t.Errorf("the migration map has no row for the legacy operation %s", op)
		}
	}
}
