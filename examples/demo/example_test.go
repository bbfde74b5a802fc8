package demo_test

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/transport"
)

// The fault flags every example takes, and the reply timeout that fits
// the faults they give.
func ExampleFaultFlags() {
	fs := flag.NewFlagSet("ex", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f transport.Faults
	demo.FaultFlags(fs, &f)
	ok, err := demo.Parse(fs, []string{"-drop", "0.2", "-delay", "10ms"})
	fmt.Println(ok, err)
	fmt.Println(f)
	fmt.Println(demo.ReplyTimeout(0, f), demo.ReplyTimeout(time.Second, f))
	// Output:
	// true <nil>
	// drop 20%, delay 10ms
	// 560ms 1s
}
