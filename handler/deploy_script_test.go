package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docFakeAz answers the Azure CLI calls of scripts/deploy.sh: the deployment's outputs come from
// outputs, everything else succeeds quietly. Each call is appended to the log file.
const docFakeAz = `#!/usr/bin/env bash
echo "$*" >> "$FAKE_AZ_LOG"
case "$*" in
  "account show"*) echo "Contoso test subscription" ;;
  "group exists"*) echo true ;;
  *"properties.outputs."*)
    all="$*"; name="${all#*properties.outputs.}"; name="${name%%.value*}"
    value="$(grep "^$name=" "$FAKE_AZ_OUTPUTS" | cut -d= -f2-)"
    [ -n "$value" ] || { echo "no output $name" >&2; exit 3; }
    echo "$value" ;;
  *"functionapp show"*) echo func-nf-abc.azurewebsites.net ;;
esac
`

// scripts/deploy.sh prints what the operator needs next, from the deployment's outputs, and
// every output it reads is declared by infra/main.bicep.
func TestDeployScriptPrintsNextSteps(t *testing.T) {
	bicep := docRead(t, "infra/main.bicep")
	script := docRead(t, "scripts/deploy.sh")
	read := docMatches(regexp.MustCompile(`\$\(output (\w+)\)`), script)
	if len(read) < 4 {
		t.Fatalf("deploy.sh reads only %v from the deployment outputs", read)
	}
	base := "https://func-nf-abc.azurewebsites.net"
	outputs := map[string]string{
		"appName": "func-nf-abc", "defaultHostName": "func-nf-abc.azurewebsites.net", "publicBaseUrl": base,
		"identityClientId": "33333333-3333-3333-3333-333333333333", "serviceBusNamespace": "sb-nf-abc.servicebus.windows.net",
		"ingestUrl": base + "/internal/v1/task-events", "adminBaseUrl": base + "/manage/v1", "ingestFunctionName": "Ingest",
	}
	var lines []string
	for _, name := range read {
		if !regexp.MustCompile(`(?m)^output ` + name + ` `).MatchString(bicep) {
			t.Errorf("deploy.sh reads the output %s, which infra/main.bicep does not declare", name)
		}
		v, ok := outputs[name]
		if !ok {
			t.Fatalf("deploy.sh reads the output %s; give it a value in this test", name)
		}
		lines = append(lines, name+"="+v)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "az"), []byte(docFakeAz), 0o755); err != nil {
		t.Fatal(err)
	}
	outFile, logFile := filepath.Join(dir, "outputs"), filepath.Join(dir, "az.log")
	if err := os.WriteFile(outFile, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "../scripts/deploy.sh", "-g", "rg-nimbusflow", "--infra-only", "-p", "@infra/main.parameters.example.json")
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "FAKE_AZ_LOG="+logFile, "FAKE_AZ_OUTPUTS="+outFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deploy.sh: %v\n%s", err, out)
	}
	for _, want := range []string{
		"endpoint URL     " + base,
		base + "/internal/v1/task-events",
		"az functionapp function keys list -g rg-nimbusflow -n func-nf-abc --function-name Ingest",
		base + "/manage/v1/tenants/",
		"Nimbus.Core", "Nimbus.Admin", "infra/README.md",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("deploy.sh output lacks %q:\n%s", want, out)
		}
	}
	calls, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(calls), "deployment group create --resource-group rg-nimbusflow --name nimbusflow --template-file infra/main.bicep --parameters @infra/main.parameters.example.json") {
		t.Errorf("deploy.sh did not deploy infra/main.bicep with the parameters; az calls:\n%s", calls)
	}
	if strings.Contains(string(calls), "config-zip") {
		t.Errorf("--infra-only uploaded code; az calls:\n%s", calls)
	}
}
