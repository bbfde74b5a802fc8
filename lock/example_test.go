package lock_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// A lock server and two clients on a simulated network: alice takes the
// lock, bob finds it held, and gets it when alice lets go, with a larger
// fencing token.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "locks")
	defer os.RemoveAll(dir)
	n := netsim.NewNetwork(1)
	defer n.Close()

	srv, err := lock.NewServer(lock.Config{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	l, _ := n.Listen("locks")
	go srv.Serve(l)

	var closers []func()
	defer func() {
		for _, closeFn := range closers {
			closeFn()
		}
	}()
	connect := func(name string) *lock.Client {
		rc, _ := rpc.Dial(ctx, "locks", rpc.WithDialer(n.Dialer(name)))
		c := lock.NewClient(rc, lock.WithName(name))
		closers = append(closers, func() { c.Close(); rc.Close() })
		return c
	}
	alice, bob := connect("alice"), connect("bob")

	ma, mb := alice.Mutex("printer"), bob.Mutex("printer")
	la, _ := ma.Lock(ctx)
	fmt.Println("alice holds the printer with token", la.Token())
	_, err = mb.TryLock(ctx)
	fmt.Println("bob tries:", err)
	for _, info := range srv.Locks() {
		fmt.Printf("server: %s is held by %s (token %d)\n", info.Name, info.Holder, info.Token)
	}

	ma.Unlock(ctx)
	fmt.Println("alice's lease:", la.Err())
	lb, _ := mb.Lock(ctx)
	fmt.Println("bob holds the printer with token", lb.Token())
	mb.Unlock(ctx)
	// Output:
	// alice holds the printer with token 1
	// bob tries: lock: held by another session
	// server: printer is held by alice (token 1)
	// alice's lease: lock: unlocked
	// bob holds the printer with token 2
}

// Why a lock alone does not protect a resource, and a fencing token does:
// alice takes the lock and is cut off (a long pause would do the same), her
// lease runs out, bob takes the lock, and when alice comes back she still
// writes, as she was about to. The store refuses her token.
func ExampleFencedStore() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "locks")
	defer os.RemoveAll(dir)
	n := netsim.NewNetwork(1)
	defer n.Close()

	// A lease of 2s: long enough that a loaded machine (the race detector,
	// other tests) does not starve bob's renewals while he waits.
	srv, _ := lock.NewServer(lock.Config{Dir: dir, TTL: 2 * time.Second, LockDelay: 100 * time.Millisecond})
	defer srv.Close()
	l, _ := n.Listen("locks")
	go srv.Serve(l)
	var closers []func()
	defer func() {
		for _, closeFn := range closers {
			closeFn()
		}
	}()
	connect := func(name string) *lock.Client {
		rc, _ := rpc.Dial(ctx, "locks", rpc.WithDialer(n.Dialer(name)))
		c := lock.NewClient(rc, lock.WithName(name))
		closers = append(closers, func() { c.Close(); rc.Close() })
		return c
	}
	alice, bob := connect("alice"), connect("bob")

	var store lock.FencedStore // where the data lives: it checks every token
	la, err := alice.Mutex("report").Lock(ctx)
	if err != nil {
		fmt.Println("alice:", err)
		return
	}
	fmt.Println("alice writes with token", la.Token(), store.Put(la.Token(), "report", "alice's draft"))

	n.Disconnect("alice") // alice is cut off: her renewals are lost
	lb, err := bob.Mutex("report").Lock(ctx)
	if err != nil {
		fmt.Println("bob:", err)
		return
	}
	fmt.Println("bob writes with token", lb.Token(), store.Put(lb.Token(), "report", "bob's report"))

	<-la.Done()
	fmt.Println("alice's lease:", la.Err())
	err = store.Put(la.Token(), "report", "alice's draft, again") // alice did not look
	fmt.Println("alice writes:", err, errors.Is(err, lock.ErrStaleToken))
	v, _ := store.Get("report")
	fmt.Println("the report is", v)
	// Output:
	// alice writes with token 1 <nil>
	// bob writes with token 2 <nil>
	// alice's lease: lock: lease expired before it could be renewed
	// alice writes: lock: stale fencing token: write with token 1, but the store has seen token 2 true
	// the report is bob's report
}
