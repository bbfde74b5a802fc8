package trace_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

// Two nodes exchange messages over traced conns. Every event gets a vector
// clock without the code above the conns doing anything, and the clocks
// tell which events could have influenced which.
func Example() {
	ctx := context.Background()
	rec := trace.NewRecorder()
	alice, bob := rec.Node("alice"), rec.Node("bob")
	x, y := net.Pipe()
	a := alice.Wrap(transport.NewConn(x))
	b := bob.Wrap(transport.NewConn(y))
	defer a.Close()
	defer b.Close()

	alice.Log("wake up")
	a.Send(trace.ContextWithLabel(ctx, "Greet"), []byte("hi bob"))
	bob.Log("make tea") // before bob hears from alice
	msg, _ := b.Recv(ctx)
	b.Send(ctx, append(msg, '!'))
	reply, _ := a.Recv(ctx)
	fmt.Printf("alice got %q\n\n", reply)

	events := rec.Events()
	for _, e := range events {
		fmt.Printf("%-5s %-19s %s\n", e.Node, e.Clock, e)
	}
	wake, tea, teaReply := events[0], events[2], events[5]
	fmt.Println()
	fmt.Println("wake up before alice gets the reply:", wake.HappensBefore(teaReply))
	fmt.Println("wake up and make tea:", wake.Clock.Compare(tea.Clock))
	// Output:
	// alice got "hi bob!"
	//
	// alice {"alice":1}         wake up
	// alice {"alice":2}         send "Greet" (6 bytes) to bob
	// bob   {"bob":1}           make tea
	// bob   {"alice":2,"bob":2} receive "Greet" (6 bytes) from alice
	// bob   {"alice":2,"bob":3} send 7 bytes to alice
	// alice {"alice":3,"bob":3} receive 7 bytes from bob
	//
	// wake up before alice gets the reply: true
	// wake up and make tea: concurrent
}

// A program's -trace DIR flag: record the run, then write the diagram.
func ExampleRecorder_WriteFiles() {
	rec := trace.NewRecorder(trace.WithTitle("my run"))
	rec.Node("a").Log("something happened")

	dir, _ := os.MkdirTemp("", "trace-example")
	defer os.RemoveAll(dir)
	if err := rec.WriteFiles(dir); err != nil {
		fmt.Println(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println(filepath.Base(e.Name()))
	}
	// Output:
	// trace.html
	// trace.jsonl
	// trace.shiviz.log
}

func ExampleVectorClock() {
	var a, b trace.VectorClock // nil: nothing has happened yet
	a = a.Tick("a")            // a does something: {"a":1}
	send := a.Tick("a")        // a sends a message stamped {"a":2}
	b = b.Tick("b")            // meanwhile b does something: {"b":1}
	recv := b.Merge(send).Tick("b")

	fmt.Println(send, recv)
	fmt.Println(send.HappensBefore(recv), send.Compare(b), a.Compare(b))
	// Output:
	// {"a":2} {"a":2,"b":2}
	// true concurrent concurrent
}

func ExampleLamportClock() {
	var alice, bob trace.LamportClock
	alice.Tick()            // 1: a local event
	stamp := alice.Tick()   // 2: a send, stamped 2
	bob.Tick()              // 1
	t := bob.Witness(stamp) // max(1, 2) + 1
	fmt.Println(stamp, t)
	// Output: 2 3
}
