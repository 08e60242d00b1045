// Package tables implements nimbus.Table over Azure Table Storage (and Azurite) with the
// aztables SDK: key encoding so that any key the contract allows is stored, payload chunking
// within the service's property limits, paging, batch transactions, and the translation of
// SDK and transport errors into nimbus error kinds.
//
// Nothing outside this package sees the SDK: callers get nimbus types and *nimbus.Error
// values whose messages carry no SDK text (the SDK error stays in the wrapped chain). Domain
// logic does not belong here; one adapter serves every table, which stores opaque payloads.
package tables
