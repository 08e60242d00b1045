// Package blobs implements nimbus.Blobs on Azure Blob Storage (azblob): one container per
// store, reached with a connection string (Azurite or a key-based account) or with an
// identity (the app's managed identity in Azure). SDK errors are translated into nimbus
// error kinds here; callers never see SDK text. It imports no other adapter.
package blobs
