package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// ErrNoKey is what KV.Get returns for a key never put.
var ErrNoKey = errors.New("kv: no such key")

// KV is a key-value service: its exported methods are its RPCs.
type KV struct {
	mu sync.Mutex // protects m: calls run concurrently
	m  map[string]string
}

// PutArgs asks to set Key to Value.
type PutArgs struct{ Key, Value string }

// GetReply carries a value.
type GetReply struct{ Value string }

// Put sets a key.
func (kv *KV) Put(args *PutArgs, reply *struct{}) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.m[args.Key] = args.Value
	return nil
}

// Get returns a key's value, or ErrNoKey.
func (kv *KV) Get(key *string, reply *GetReply) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	v, ok := kv.m[*key]
	if !ok {
		return fmt.Errorf("get %q: %w", *key, ErrNoKey)
	}
	reply.Value = v
	return nil
}

// A key-value service and a client of it, over TCP. ErrNoKey is declared on
// both sides, so it survives the wire.
func Example() {
	ctx := context.Background()
	srv := rpc.NewServer(rpc.WithErrors(ErrNoKey))
	_ = srv.Register(&KV{m: map[string]string{}})
	l, _ := transport.ListenTCP("127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()

	c, _ := rpc.Dial(ctx, l.Addr().String(), rpc.WithErrors(ErrNoKey))
	defer c.Close()
	_ = c.Call(ctx, "KV.Put", &PutArgs{Key: "x", Value: "1"}, nil)
	var r GetReply
	err := c.Call(ctx, "KV.Get", ptr("x"), &r)
	fmt.Println(r.Value, err)
	err = c.Call(ctx, "KV.Get", ptr("y"), &r)
	fmt.Println(errors.Is(err, ErrNoKey), err)
	// Output:
	// 1 <nil>
	// true rpc: KV.Get: get "y": kv: no such key
}

// Interceptors see every call and can carry metadata beside it: here, a
// request id the server echoes back.
func ExampleWithClientInterceptor() {
	ctx := context.Background()
	srv := rpc.NewServer(rpc.WithServerInterceptor(
		func(ctx context.Context, call *rpc.ServerCall, next rpc.Handler) error {
			call.ReplyMetadata = rpc.Metadata{"seen": call.Metadata["id"]}
			return next(ctx, call)
		}))
	_ = srv.Register(&KV{m: map[string]string{}})
	l, _ := transport.ListenTCP("127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()

	logging := func(ctx context.Context, call *rpc.Call, invoke rpc.Invoker) error {
		call.Metadata = rpc.Metadata{"id": "req-1"}
		err := invoke(ctx, call)
		fmt.Printf("%s(%v): err=%v, server saw id %s\n", call.Method, *call.Args.(*PutArgs), err, call.ReplyMetadata["seen"])
		return err
	}
	c, _ := rpc.Dial(ctx, l.Addr().String(), rpc.WithClientInterceptor(logging))
	defer c.Close()
	_ = c.Call(ctx, "KV.Put", &PutArgs{Key: "x", Value: "1"}, nil)
	// Output:
	// KV.Put({x 1}): err=<nil>, server saw id req-1
}

// Counter counts the calls that took effect.
type Counter struct {
	mu sync.Mutex // protects n
	n  int
}

// Incr is not idempotent: running it twice counts twice.
func (c *Counter) Incr(args *struct{}, reply *int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	*reply = c.n
	return nil
}

// With WithRetry, a client resends calls that get no reply, and the server
// runs each at most once: a call whose reply was lost is answered again
// from the server's memory, not run again. Here, on a simulated network, a
// third of all messages are lost, in both directions, yet ten calls count
// ten.
func ExampleWithRetry() {
	ctx := context.Background()
	n := netsim.NewNetwork(1)
	defer n.Close()
	_ = n.SetDefaultFaults(transport.Faults{Drop: 0.3})

	srv := rpc.NewServer()
	_ = srv.Register(&Counter{})
	l, _ := n.Listen("counter")
	go srv.Serve(l)
	defer srv.Close()

	c, _ := rpc.Dial(ctx, "counter", rpc.WithDialer(n.Dialer("client")),
		rpc.WithRetry(rpc.RetryPolicy{Interval: 5 * time.Millisecond}))
	defer c.Close()
	var count int
	for range 10 {
		if err := c.Call(ctx, "Counter.Incr", &struct{}{}, &count); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println("count:", count, "retried:", c.Stats().Retries > 0)
	// Output:
	// count: 10 retried: true
}

// Election is a service written for MIT's labrpc: its handlers return
// nothing.
type Election struct{ term int }

// VoteArgs asks for a vote in a term.
type VoteArgs struct{ Term int }

// VoteReply says whether the vote was granted.
type VoteReply struct{ Granted bool }

// RequestVote grants a vote for a term later than its own.
func (e *Election) RequestVote(args *VoteArgs, reply *VoteReply) {
	reply.Granted = args.Term > e.term
}

// Lab code written for labrpc ports with one change: its peers become
// *rpc.ClientEnd, whose Call returns a bool as labrpc's does.
func ExampleClientEnd() {
	ctx := context.Background()
	n := netsim.NewNetwork(1)
	defer n.Close()
	srv := rpc.NewServer()
	_ = srv.Register(&Election{term: 3})
	l, _ := n.Listen("peer1")
	go srv.Serve(l)
	defer srv.Close()

	c, _ := rpc.Dial(ctx, "peer1", rpc.WithDialer(n.Dialer("peer0")))
	defer c.Close()
	peers := []*rpc.ClientEnd{nil, rpc.NewClientEnd(c, 100*time.Millisecond)}
	var reply VoteReply
	ok := peers[1].Call("Election.RequestVote", &VoteArgs{Term: 4}, &reply)
	fmt.Println(ok, reply.Granted)
	ok = peers[1].Call("Election.AppendEntries", &VoteArgs{Term: 4}, &reply)
	fmt.Println(ok)
	// Output:
	// true true
	// false
}
