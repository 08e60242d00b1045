// Package servicebus implements nimbus.Queue over Azure Service Bus (and its emulator) with
// the azservicebus SDK: the sending side only. Each Send becomes one message batch, so the
// messages of one call are accepted all or none; Message.ID becomes MessageId (the entities
// detect duplicates by it), SessionID becomes SessionId, and a future NotBefore becomes a
// scheduled enqueue time. SDK and transport errors are translated into nimbus error kinds.
//
// The receiving side is not here: in Azure the Functions host consumes the queues
// (serviceBusTrigger) and invokes the handler over HTTP, settling each message by the
// invocation's outcome (see handler/funchost). Standalone, the embedded queue is used
// instead.
//
// Nothing outside this package sees the SDK: callers get nimbus types and *nimbus.Error
// values whose messages carry no SDK text (the SDK error stays in the wrapped chain).
// Domain logic does not belong here.
package servicebus
