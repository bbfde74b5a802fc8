package tracesim_test

import (
	"context"
	"fmt"

	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/trace/tracesim"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// A message sent into a partition is lost; the trace says so, and why.
func Example() {
	ctx := context.Background()
	rec := trace.NewRecorder()
	net := netsim.NewNetwork(1, netsim.WithObserver(tracesim.Observer(rec)))
	defer net.Close()

	l, _ := net.Listen("server")
	server := rec.Node("server").WrapListener(l)
	client, _ := rec.Node("client").WrapDialer(net.Dialer("client")).Dial(ctx, "server")
	conn, _ := server.Accept(ctx)

	net.Partition([]string{"client"}, []string{"server"})
	client.Send(ctx, []byte("lost"))
	net.Heal()
	client.Send(ctx, []byte("found"))
	msg, _ := conn.Recv(ctx)
	fmt.Printf("server got %q\n", msg)

	for _, e := range rec.Events() {
		fmt.Printf("%-6s %-9s %s\n", e.Node, e.Kind, e)
	}
	// Output:
	// server got "found"
	//        partition partition: {client} | {server}
	// client send      send 4 bytes to server
	// client drop      lost 4 bytes to server (message client#1): dropped by netsim: partition
	//        heal      heal: every link
	// client send      send 5 bytes to server
	// server receive   receive 5 bytes from client
}
