package kvstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/distsys-kit/distsys/cmd/internal/kvstore"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func Example() {
	// A server and a client joined by a pipe; kvserver serves over TCP.
	srv := rpc.NewServer(rpc.WithErrors(kvstore.Errors...))
	if err := kvstore.New().Register(srv); err != nil {
		fmt.Println(err)
		return
	}
	a, b := net.Pipe()
	served := make(chan struct{})
	go func() { // exits when srv is closed
		defer close(served)
		srv.ServeConn(transport.NewConn(b))
	}()
	rc := rpc.NewClient(transport.NewConn(a), rpc.WithErrors(kvstore.Errors...))
	c := kvstore.NewClient(rc)
	ctx := context.Background()

	e, _ := c.Add(ctx, "hits", 5)
	fmt.Printf("after add: value %d, version %d\n", e.Value, e.Version)
	_, err := c.Put(ctx, "hits", 0, 0) // as if hits had never been written
	fmt.Println("stale put refused:", errors.Is(err, kvstore.ErrConflict))
	e, refused, _ := c.Increment(ctx, "hits")
	fmt.Printf("after increment: value %d, version %d, %d refused\n", e.Value, e.Version, refused)

	rc.Close()
	srv.Close()
	<-served
	// Output:
	// after add: value 5, version 1
	// stale put refused: true
	// after increment: value 6, version 2, 0 refused
}
