package tracerpc_test

import (
	"context"
	"fmt"
	"net"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/trace/tracerpc"
	"github.com/distsys-kit/distsys/transport"
)

// Greeter is a tiny rpc service.
type Greeter struct{}

// Hello greets.
func (Greeter) Hello(name *string, reply *string) error {
	*reply = "hello, " + *name
	return nil
}

// Every call becomes two messages in the trace, named by the method.
func Example() {
	rec := trace.NewRecorder()
	x, y := net.Pipe()

	srv := rpc.NewServer(rpc.WithServerInterceptor(tracerpc.ServerInterceptor(rec.Node("server"))))
	srv.Register(Greeter{})
	done := make(chan struct{})
	go func() { // exits when the client hangs up
		defer close(done)
		srv.ServeConn(transport.NewConn(x))
	}()
	cli := rpc.NewClient(transport.NewConn(y),
		rpc.WithClientInterceptor(tracerpc.ClientInterceptor(rec.Node("client"), "server")))

	var reply string
	name := "ada"
	cli.Call(context.Background(), "Greeter.Hello", &name, &reply)
	fmt.Println(reply)
	cli.Close()
	<-done
	srv.Close()

	for _, e := range rec.Events() {
		fmt.Printf("%-6s %-27s data %s\n", e.Node, e.Clock, e.Data)
		fmt.Printf("       %s\n", e)
	}
	// Output:
	// hello, ada
	// client {"client":1}                data "ada"
	//        send "Greeter.Hello" (3 bytes) to server
	// server {"client":1,"server":1}     data "ada"
	//        receive "Greeter.Hello" (3 bytes) from client
	// server {"client":1,"server":2}     data "hello, ada"
	//        send "Greeter.Hello reply" (10 bytes) to client
	// client {"client":2,"server":2}     data "hello, ada"
	//        receive "Greeter.Hello reply" (10 bytes) from server
}
