package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// The embedded etcd servers (lock_test.go) leave their peers' idle HTTP
// connections to close in the background after Close; nothing else in
// this module speaks HTTP, so these are theirs.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
		goleak.IgnoreAnyFunction("net/http.(*connReader).backgroundRead"))
}
