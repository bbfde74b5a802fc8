package rafttest_test

import (
	"fmt"
	"time"

	"github.com/distsys-kit/distsys/raft/rafttest"
)

// A follower cut off from the others misses a command and catches up
// when it returns; the harness checks every applied entry meanwhile.
//
// In a test, pass the test's t and wrap the test in synctest.Test, so that
// its seconds pass in virtual time; an Example has no t, so this one runs
// in real time (about three seconds) with a stand-in.
func Example() {
	tb := &exampleTB{}
	defer tb.cleanup()
	c := rafttest.New(tb, 3, 1)
	first := c.One([]byte("a"), 3, false)
	leader := c.CheckOneLeader()
	away := (leader + 1) % 3
	c.Disconnect(away)
	c.One([]byte("b"), 2, false)
	n, _ := c.NCommitted(first + 1)
	fmt.Println("servers that applied b while one was away:", n)

	time.Sleep(rafttest.ElectionTimeout)
	c.Connect(away)
	c.One([]byte("c"), 3, true)
	n, cmd := c.NCommitted(first + 1)
	fmt.Printf("after it returns, %d servers applied %s\n", n, cmd)
	fmt.Println("safety violations:", c.Violation())
	// Output:
	// servers that applied b while one was away: 2
	// after it returns, 3 servers applied b
	// safety violations: <nil>
}

// exampleTB stands in for the *testing.T an Example lacks.
type exampleTB struct{ cleanups []func() }

func (*exampleTB) Helper()                        {}
func (*exampleTB) Name() string                   { return "Example" }
func (*exampleTB) Failed() bool                   { return false }
func (*exampleTB) Logf(string, ...any)            {}
func (*exampleTB) Errorf(format string, a ...any) { fmt.Printf(format+"\n", a...) }
func (*exampleTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (tb *exampleTB) Cleanup(f func())            { tb.cleanups = append(tb.cleanups, f) }
func (tb *exampleTB) cleanup() {
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
}
