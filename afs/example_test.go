package afs_test

import (
	"context"
	"fmt"

	"github.com/distsys-kit/distsys/afs"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// alice caches a file; bob writes it; the server calls alice back before
// bob's write returns, so her next open fetches the new version.
func Example() {
	ctx := context.Background()
	n := netsim.NewNetwork(1)
	defer n.Close()
	serve := func(node string, register func(*rpc.Server) error) func() {
		l, _ := n.Listen(node)
		srv := rpc.NewServer()
		register(srv)
		go srv.Serve(l)
		return func() { srv.Close() }
	}
	dial := func(from, to string) *rpc.Client {
		c, _ := rpc.Dial(ctx, to, rpc.WithDialer(n.Dialer(from)))
		return c
	}

	server := afs.NewServer([]afs.File{{Name: "notes.txt", Data: "draft 1", Version: 1}}, afs.Config{
		Callbacks: true,
		Dial:      func(ctx context.Context, client string) (afs.Conn, error) { return dial("server", client), nil },
	})
	defer server.Close()
	defer serve("server", server.Register)()
	clients := map[string]*afs.Client{}
	for _, name := range []string{"alice", "bob"} {
		rc := dial(name, "server")
		defer rc.Close()
		clients[name] = afs.NewClient(name, rc)
		defer serve(name, clients[name].Register)()
	}
	alice, bob := clients["alice"], clients["bob"]

	open := func() {
		f, hit, _ := alice.Open(ctx, "notes.txt")
		fmt.Printf("alice opens: %q version %d, from the cache: %v\n", f.Data, f.Version, hit)
	}
	open()
	open()
	bob.Write(ctx, "notes.txt", "draft 2")
	fmt.Println("bob writes draft 2; callbacks made:", server.Stats().Broken)
	open()
	// Output:
	// alice opens: "draft 1" version 1, from the cache: false
	// alice opens: "draft 1" version 1, from the cache: true
	// bob writes draft 2; callbacks made: 1
	// alice opens: "draft 2" version 2, from the cache: false
}
