// Package devcert makes throwaway TLS certificates for tests and demos: a
// certificate authority, a server certificate for localhost and 127.0.0.1,
// and a client certificate for mutual TLS, all generated in memory when
// asked for, and valid for a day. Never use them for anything real: their
// keys are in your process's memory and nowhere safer.
//
// A student project that wants to test its server over TLS, or an example
// that wants to show TLS working, calls New and uses the configurations:
//
//	certs, err := devcert.New()
//	l, err := transport.ListenTCP("127.0.0.1:0", transport.WithTLS(certs.Server))
//	c, err := transport.DialTCP(ctx, l.Addr().String(), transport.WithTLS(certs.Client))
//
// MutualServer and MutualClient do the same with client certificates
// (mutual TLS): the server refuses a client that does not present one
// signed by the same authority. Two Sets share nothing, so a client of one
// Set does not trust a server of another: an impostor.
//
// It used to be internal; it is public so that code copied out of this
// repository (an example, a test) can still import it.
package devcert
