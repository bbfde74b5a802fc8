package kv_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// A server and a client on a simulated network: writes, a read, and a
// compare-and-set refused because the key moved on.
func Example() {
	ctx := context.Background()
	n := netsim.NewNetwork(1)
	defer n.Close()

	srv := rpc.NewServer()
	kv.Register(srv, kv.NewStore())
	l, _ := n.Listen("server")
	go srv.Serve(l)
	defer srv.Close()

	rc, _ := rpc.Dial(ctx, "server", rpc.WithDialer(n.Dialer("client")), rpc.WithRetry(rpc.RetryPolicy{}))
	defer rc.Close()
	c := kv.NewClient(rc)

	c.Put(ctx, "greeting", "hello")
	c.Append(ctx, "greeting", ", world")
	v, ver, _ := c.Get(ctx, "greeting")
	fmt.Printf("%q at version %d\n", v, ver)

	_, err := c.PutIf(ctx, "greeting", "hi", 1) // read at version 1: out of date
	fmt.Println(errors.Is(err, kv.ErrConflict), err)

	_, _, err = c.Get(ctx, "missing")
	fmt.Println(err)
	// Output:
	// "hello, world" at version 2
	// true kv: put "greeting" at version 1, but it is at 2: read it again and retry
	// kv: no such key
}

// A server whose store holds at most two keys, and values of at most 16
// bytes: what is over a limit is refused, with an error that says which.
func ExampleWithLimits() {
	ctx := context.Background()
	n := netsim.NewNetwork(1)
	defer n.Close()

	srv := rpc.NewServer()
	kv.Register(srv, kv.NewStore(), kv.WithLimits(kv.Limits{MaxKeys: 2, MaxValueLen: 16}))
	l, _ := n.Listen("server")
	go srv.Serve(l)
	defer srv.Close()

	rc, _ := rpc.Dial(ctx, "server", rpc.WithDialer(n.Dialer("client")), rpc.WithRetry(rpc.RetryPolicy{}))
	defer rc.Close()
	c := kv.NewClient(rc)

	c.Put(ctx, "a", "1")
	c.Put(ctx, "b", "2")
	_, err := c.Put(ctx, "c", "3")
	fmt.Println(errors.Is(err, kv.ErrFull), err)
	_, err = c.Append(ctx, "a", "0123456789abcdef")
	fmt.Println(errors.Is(err, kv.ErrTooLarge), err)
	ver, _ := c.Put(ctx, "a", "changed") // a key the store holds: room enough
	fmt.Println("a at version", ver)
	// Output:
	// true kv: put "c": kv: store full: 3 keys would be over the server's limit (MaxKeys 2)
	// true kv: append "a": kv: a value of 17 bytes is over the server's limit (MaxValueLen 16)
	// a at version 2
}
