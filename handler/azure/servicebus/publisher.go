package servicebus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Config says how to reach a namespace: a connection string (the emulator, with
// "UseDevelopmentEmulator=true", or a key-based namespace), or a namespace with a token
// credential (identity-based, as in Azure).
type Config struct {
	// ConnectionString takes precedence when set.
	ConnectionString string
	// Namespace is fully qualified, e.g. example.servicebus.windows.net.
	Namespace string
	// Credential authenticates to Namespace; nil means azidentity's DefaultAzureCredential
	// (managed identity in Azure, developer credentials locally).
	Credential azcore.TokenCredential
}

// clientOptions bound the SDK's retries. Its defaults (3 retries, delays from 4 s up to
// 2 min) make an unreachable namespace hang a Send for minutes; callers (an ingest request)
// would rather get KindUnavailable within seconds and retry at their own level, where
// duplicate detection absorbs a send that did land.
func clientOptions() *azservicebus.ClientOptions {
	return &azservicebus.ClientOptions{RetryOptions: azservicebus.RetryOptions{
		MaxRetries:    2,
		RetryDelay:    200 * time.Millisecond,
		MaxRetryDelay: 2 * time.Second,
	}}
}

// Publisher sends to the queues of one namespace. Opening it does not connect: the first
// Send to a queue opens the connection and that queue's link. It is safe for concurrent use.
type Publisher struct {
	client    *azservicebus.Client // nil in tests
	newSender func(queue string) (sender, error)
	now       func() time.Time

	mu      sync.Mutex
	senders map[string]sender
	closed  bool
}

var _ nimbus.Queues = (*Publisher)(nil)

// Open checks the configuration and returns a Publisher. Errors are *nimbus.Error of
// KindInvalid: a malformed connection string or namespace, or no credential.
func Open(cfg Config) (*Publisher, error) {
	client, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	return newPublisher(client, func(queue string) (sender, error) {
		s, err := client.NewSender(queue, nil)
		if err != nil {
			return nil, err
		}
		return sdkSender{s}, nil
	}), nil
}

func newPublisher(client *azservicebus.Client, newSender func(string) (sender, error)) *Publisher {
	return &Publisher{client: client, newSender: newSender, now: time.Now, senders: map[string]sender{}}
}

func newClient(cfg Config) (*azservicebus.Client, error) {
	if cfg.ConnectionString != "" {
		c, err := azservicebus.NewClientFromConnectionString(strings.TrimSpace(cfg.ConnectionString), clientOptions())
		if err != nil {
			return nil, &nimbus.Error{Kind: nimbus.KindInvalid, Target: "connectionString",
				Message: "the Service Bus connection string is malformed", Err: err}
		}
		return c, nil
	}
	ns := cfg.Namespace
	if ns == "" {
		return nil, nimbus.Invalid("namespace", "a Service Bus connection string or namespace is required")
	}
	if strings.ContainsAny(ns, "/:;@ ") || !strings.Contains(ns, ".") {
		return nil, nimbus.Invalid("namespace", "the Service Bus namespace must be a fully qualified host name such as example.servicebus.windows.net")
	}
	cred := cfg.Credential
	if cred == nil {
		dc, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, &nimbus.Error{Kind: nimbus.KindInvalid, Target: "credential",
				Message: "no Azure credential is available for the Service Bus namespace", Err: err}
		}
		cred = dc
	}
	c, err := azservicebus.NewClient(ns, cred, clientOptions())
	if err != nil {
		return nil, &nimbus.Error{Kind: nimbus.KindInvalid, Target: "namespace",
			Message: "the Service Bus namespace is not usable", Err: err}
	}
	return c, nil
}

// Queue returns the named queue (the entity must exist; infra creates them).
func (p *Publisher) Queue(name string) nimbus.Queue { return queue{p: p, name: name} }

// sender returns the queue's sender, creating it on first use.
func (p *Publisher) sender(name string) (sender, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nimbus.Unavailable(fmt.Sprintf("send to queue %q", name), errors.New("publisher closed"))
	}
	if s, ok := p.senders[name]; ok {
		return s, nil
	}
	s, err := p.newSender(name)
	if err != nil {
		return nil, sendError(name, err)
	}
	p.senders[name] = s
	return s, nil
}

// Close closes every sender and the connection. Sends fail with KindUnavailable afterwards.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	senders := p.senders
	p.senders, p.closed = map[string]sender{}, true
	p.mu.Unlock()
	var errs []error
	for name, s := range senders {
		if err := s.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close sender %q: %w", name, err))
		}
	}
	if p.client != nil {
		if err := p.client.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close client: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close service bus publisher: %w", err)
	}
	return nil
}
