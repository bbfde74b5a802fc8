package primarybackup_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/distsys-kit/distsys/primarybackup"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// A synchronous primary refuses a write it cannot copy to the backup, and
// keeps nothing of it; after the heal, writes go through again.
func Example() {
	ctx := context.Background()
	n := netsim.NewNetwork(1)
	defer n.Close()
	declared := rpc.WithErrors(primarybackup.ErrNotReplicated)
	serve := func(node string, rcvr any) func() {
		l, _ := n.Listen(node)
		srv := rpc.NewServer(declared)
		srv.Register(rcvr)
		go srv.Serve(l)
		return func() { srv.Close() }
	}
	dial := func(from, to string) *rpc.Client {
		c, _ := rpc.Dial(ctx, to, rpc.WithDialer(n.Dialer(from)), declared, rpc.WithRetry(rpc.RetryPolicy{Interval: 20 * time.Millisecond}))
		return c
	}

	defer serve("backup", &primarybackup.Backup{})()
	toBackup := dial("primary", "backup")
	defer toBackup.Close()
	p := primarybackup.NewPrimary(toBackup, primarybackup.Config{Sync: true, CopyTimeout: 100 * time.Millisecond})
	defer p.Close()
	defer serve("primary", p)()
	client := dial("client", "primary")
	defer client.Close()

	put := func(value string) {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		err := client.Call(ctx, "Primary.Put", &primarybackup.PutArgs{Key: "x", Value: value}, nil)
		fmt.Printf("put x=%s: %v, primary has x=%s\n", value, errors.Is(err, primarybackup.ErrNotReplicated), p.Value("x").Value)
	}
	put("1")
	n.Partition([]string{"primary", "client"}, []string{"backup"})
	put("2")
	n.Heal()
	put("3")
	// Output:
	// put x=1: false, primary has x=1
	// put x=2: true, primary has x=1
	// put x=3: false, primary has x=3
}
