// Package certgen makes a small certificate authority and the certificates
// signed by it that the programs under cmd/ need for TLS and mutual TLS,
// as PEM files: for tests, and for cmd/devcerts, which students run once
// to secure a cluster of lab machines. They are for development: the CA's
// key is thrown away, so more certificates can only come from a new CA.
package certgen
