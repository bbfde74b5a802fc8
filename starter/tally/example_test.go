package tally_test

import (
	"context"
	"fmt"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"

	"example.com/starter/tally"
)

// A server and a client on a simulated network; swap n.Listen and
// n.Dialer for transport.ListenTCP and transport.NewTCPDialer to run it
// across machines.
func Example() {
	n := netsim.NewNetwork(1)
	defer n.Close()
	srv := rpc.NewServer()
	if err := srv.Register(tally.NewServer()); err != nil {
		panic(err)
	}
	l, err := n.Listen("server")
	if err != nil {
		panic(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() { srv.Close(); <-served }()

	rc, err := rpc.Dial(context.Background(), "server", rpc.WithDialer(n.Dialer("client")))
	if err != nil {
		panic(err)
	}
	defer rc.Close()
	c := tally.NewClient(rc)
	c.Add(context.Background(), "visits", 2)
	v, err := c.Add(context.Background(), "visits", 3)
	fmt.Println(v, err)
	// Output: 5 <nil>
}
