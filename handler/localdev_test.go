package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The local Functions mode (README, "Running under the Functions host with Azurite") runs the
// host with local.settings.example.json, Azurite and the Service Bus emulator of
// infra/servicebus-emulator. These must agree with each other, with the functions' bindings,
// with the queues the handler uses, and with the queues the Bicep deploys.

type docEmulatorQueue struct {
	Name       string
	Properties struct {
		RequiresSession            bool
		RequiresDuplicateDetection bool
	}
}

func docEmulatorQueues(t *testing.T) map[string]docEmulatorQueue {
	t.Helper()
	var cfg struct {
		UserConfig struct {
			Namespaces []struct {
				Queues []docEmulatorQueue
			}
		}
	}
	if err := json.Unmarshal([]byte(docRead(t, "infra/servicebus-emulator/Config.json")), &cfg); err != nil {
		t.Fatalf("infra/servicebus-emulator/Config.json: %v", err)
	}
	if len(cfg.UserConfig.Namespaces) != 1 {
		t.Fatalf("the emulator config must have one namespace, has %d", len(cfg.UserConfig.Namespaces))
	}
	out := map[string]docEmulatorQueue{}
	for _, q := range cfg.UserConfig.Namespaces[0].Queues {
		out[q.Name] = q
	}
	return out
}

// docHandlerQueues are the queue names declared in handler/nimbus/queue.go.
func docHandlerQueues(t *testing.T) []string {
	t.Helper()
	names := docMatches(regexp.MustCompile(`(?m)^\s*Queue\w+\s*=\s*"([^"]+)"`), docRead(t, "handler/nimbus/queue.go"))
	if len(names) == 0 {
		t.Fatal("no queue names found in handler/nimbus/queue.go")
	}
	return names
}

// docBicepQueues maps each queue of infra/modules/servicebus.bicep to whether it requires sessions.
func docBicepQueues(t *testing.T) map[string]bool {
	t.Helper()
	src := docRead(t, "infra/modules/servicebus.bicep")
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`name: '([^']+)'\s*\n\s*requiresSession: (true|false)`).FindAllStringSubmatch(src, -1) {
		out[m[1]] = m[2] == "true"
	}
	if len(out) == 0 {
		t.Fatal("no queues found in infra/modules/servicebus.bicep")
	}
	return out
}

func TestServiceBusEmulatorMatchesHandlerAndBicep(t *testing.T) {
	emu, bicep := docEmulatorQueues(t), docBicepQueues(t)
	for _, name := range docHandlerQueues(t) {
		q, ok := emu[name]
		if !ok {
			t.Errorf("the handler uses queue %q, but the emulator config does not define it", name)
			continue
		}
		if !q.Properties.RequiresDuplicateDetection {
			t.Errorf("emulator queue %q must detect duplicates: the handler relies on message ids", name)
		}
		session, ok := bicep[name]
		if !ok {
			t.Errorf("the handler uses queue %q, but infra/modules/servicebus.bicep does not deploy it", name)
		} else if session != q.Properties.RequiresSession {
			t.Errorf("queue %q: sessions %v in the Bicep, %v in the emulator", name, session, q.Properties.RequiresSession)
		}
		delete(emu, name)
	}
	for name := range emu {
		t.Errorf("the emulator defines queue %q, which the handler does not use", name)
	}
}

func TestLocalSettingsMatchEmulatorAndFunctions(t *testing.T) {
	var local struct {
		Values map[string]string
	}
	if err := json.Unmarshal([]byte(docRead(t, "local.settings.example.json")), &local); err != nil {
		t.Fatalf("local.settings.example.json: %v", err)
	}
	v := local.Values
	if v["FUNCTIONS_WORKER_RUNTIME"] != "custom" {
		t.Errorf("FUNCTIONS_WORKER_RUNTIME is %q, want custom", v["FUNCTIONS_WORKER_RUNTIME"])
	}

	// Service Bus: the emulator's connection string, on the port the compose file publishes.
	compose := docRead(t, "infra/servicebus-emulator/docker-compose.yml")
	if !strings.Contains(compose, "./Config.json:/ServiceBus_Emulator/ConfigFiles/Config.json") {
		t.Errorf("docker-compose.yml does not mount Config.json into the emulator")
	}
	if !regexp.MustCompile(`"(127\.0\.0\.1:)?5672:5672"`).MatchString(compose) {
		t.Errorf("docker-compose.yml does not publish the AMQP port 5672 that the connection strings use")
	}
	emulatorConn := regexp.MustCompile(`^Endpoint=sb://localhost(:5672)?;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;?$`)
	if !emulatorConn.MatchString(v["NIMBUS_SERVICEBUS"]) {
		t.Errorf("NIMBUS_SERVICEBUS %q is not the emulator's connection string", v["NIMBUS_SERVICEBUS"])
	}

	// Every Service Bus trigger: its queue exists in the emulator with the same session mode,
	// and its connection setting is in the local settings, pointing at the emulator too.
	emu := docEmulatorQueues(t)
	files, err := filepath.Glob("../functions/*/function.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no function.json files: %v", err)
	}
	triggers := 0
	for _, f := range files {
		var doc struct {
			Bindings []struct {
				Type, QueueName, Connection string
				IsSessionsEnabled           bool
			}
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, b := range doc.Bindings {
			if b.Type != "serviceBusTrigger" {
				continue
			}
			triggers++
			// A dead-letter sub-queue exists with its queue and never has sessions.
			parent, dlq := strings.CutSuffix(b.QueueName, "/$deadletterqueue")
			q, ok := emu[parent]
			if ok && dlq {
				if b.IsSessionsEnabled {
					t.Errorf("%s: a dead-letter sub-queue has no sessions", f)
				}
			} else if !ok {
				t.Errorf("%s listens on queue %q, which the emulator does not define", f, b.QueueName)
			} else if q.Properties.RequiresSession != b.IsSessionsEnabled {
				t.Errorf("%s: isSessionsEnabled %v, but the emulator queue %q has RequiresSession %v", f, b.IsSessionsEnabled, b.QueueName, q.Properties.RequiresSession)
			}
			if !emulatorConn.MatchString(v[b.Connection]) {
				t.Errorf("%s uses the connection %q; local.settings.example.json must set it to the emulator's connection string, has %q", f, b.Connection, v[b.Connection])
			}
		}
	}
	if triggers == 0 {
		t.Error("no Service Bus trigger found in functions/")
	}

	// Storage: Azurite on the default ports that the README's command starts it on.
	for _, name := range []string{"AzureWebJobsStorage", "NIMBUS_STORAGE"} {
		for _, want := range []string{"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1", "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1"} {
			if !strings.Contains(v[name], want) {
				t.Errorf("local.settings.example.json %s lacks %s", name, want)
			}
		}
	}

	// Every NIMBUS_* setting in the example is one the handler reads.
	code := settingsReadByCode(t)
	for name := range v {
		if strings.HasPrefix(name, "NIMBUS_") && !slices.Contains(code, name) {
			t.Errorf("local.settings.example.json sets %s, which the handler does not read", name)
		}
	}

	section := docSection(t, docRead(t, "README.md"), "Running under the Functions host with Azurite")
	for _, want := range []string{"infra/servicebus-emulator/docker-compose.yml", "local.settings.example.json", "scripts/package.sh", "func start", "azurite"} {
		if !strings.Contains(section, want) {
			t.Errorf("the README's local Functions steps do not mention %s", want)
		}
	}
}
