package netsim_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// echo answers every message on the conns l accepts with "echo " and the
// message, until the network closes.
func echo(l transport.Listener, wg *sync.WaitGroup) {
	defer wg.Done()
	ctx := context.Background()
	for {
		c, err := l.Accept(ctx)
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				msg, err := c.Recv(ctx)
				if err != nil {
					return
				}
				c.Send(ctx, append([]byte("echo "), msg...))
			}
		}()
	}
}

// Three nodes: a client and two echo servers. A partition cuts s2 off: the
// client's request is lost on the way, and all the client sees is its
// timeout. After Heal, s2 answers again; the lost request stays lost.
func Example() {
	var wg sync.WaitGroup
	defer wg.Wait() // last: Close has stopped the servers
	n := netsim.NewNetwork(1)
	defer n.Close()

	for _, name := range []string{"s1", "s2"} {
		l, _ := n.Listen(name)
		wg.Add(1)
		go echo(l, &wg)
	}
	ctx := context.Background()
	s1, _ := n.Dial(ctx, "client", "s1")
	s2, _ := n.Dial(ctx, "client", "s2")
	ask := func(c transport.Conn, question string) {
		ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		c.Send(ctx, []byte(question))
		reply, err := c.Recv(ctx)
		if err != nil {
			fmt.Printf("%s: no answer: %v\n", c.RemoteAddr(), err)
			return
		}
		fmt.Printf("%s: %s\n", c.RemoteAddr(), reply)
	}

	ask(s1, "hello")
	ask(s2, "hello")
	fmt.Println("-- partition {client, s1} | {s2}")
	n.Partition([]string{"client", "s1"}, []string{"s2"})
	ask(s1, "still there?")
	ask(s2, "still there?")
	fmt.Println("-- heal")
	n.Heal()
	ask(s2, "back?")

	s := n.LinkStats("client", "s2")
	fmt.Printf("client -> s2: sent %d, delivered %d, dropped %d\n", s.Sent, s.Delivered, s.Dropped)
	// Output:
	// s1: echo hello
	// s2: echo hello
	// -- partition {client, s1} | {s2}
	// s1: echo still there?
	// s2: no answer: context deadline exceeded
	// -- heal
	// s2: echo back?
	// client -> s2: sent 3, delivered 2, dropped 1
}

// A lossy link loses the same messages in every run with the same seed.
func ExampleNetwork_SetFaults() {
	n := netsim.NewNetwork(7)
	defer n.Close()
	n.SetFaults("a", "b", transport.Faults{Drop: 0.3})

	ctx := context.Background()
	l, _ := n.Listen("b")
	a, _ := n.Dial(ctx, "a", "b")
	b, _ := l.Accept(ctx)
	for i := range 10 {
		a.Send(ctx, []byte{byte('0' + i)})
	}
	a.Close() // b reads what arrived, then io.EOF

	var got []byte
	for msg, err := b.Recv(ctx); err == nil; msg, err = b.Recv(ctx) {
		got = append(got, msg...)
	}
	s := n.LinkStats("a", "b")
	fmt.Printf("received %s: %d of %d lost\n", got, s.Dropped, s.Sent)
	// Output:
	// received 01234689: 2 of 10 lost
}

// A crashed machine is silent: its peer's conn stays open, and the peer
// learns nothing until its own timeout ends the wait.
func ExampleNetwork_Crash() {
	n := netsim.NewNetwork(1)
	defer n.Close()
	ctx := context.Background()
	l, _ := n.Listen("server")
	client, _ := n.Dial(ctx, "client", "server")
	server, _ := l.Accept(ctx)

	n.Crash("server")
	_, err := server.Recv(ctx)
	fmt.Println("server:", err)

	err = client.Send(ctx, []byte("request"))
	fmt.Println("client send:", err)
	timeout, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = client.Recv(timeout)
	fmt.Println("client recv:", err)
	// Output:
	// server: netsim: node crashed: transport: use of closed network connection
	// client send: <nil>
	// client recv: context deadline exceeded
}

// Datagrams between nodes, for protocols written against net.PacketConn.
func ExampleNetwork_ListenPacket() {
	n := netsim.NewNetwork(1)
	defer n.Close()
	a, _ := n.ListenPacket("a")
	b, _ := n.ListenPacket("b")

	a.WriteTo([]byte("ping"), netsim.Addr("b"))
	buf := make([]byte, 100)
	k, from, _ := b.ReadFrom(buf)
	fmt.Printf("b got %q from %s\n", buf[:k], from)
	// Output:
	// b got "ping" from a
}

// A paused network steps one message at a time, and its observer narrates
// what happens, the pause and the partition included.
func ExampleNetwork_Hold() {
	n := netsim.NewNetwork(1, netsim.WithObserver(func(e netsim.Event) {
		switch {
		case e.Kind == netsim.EventDrop:
			fmt.Printf("  drop %q %s -> %s: %v\n", e.Msg, e.From, e.To, e.Reason)
		case e.Kind.Message():
			fmt.Printf("  %s %q %s -> %s\n", e.Kind, e.Msg, e.From, e.To)
		default:
			fmt.Printf("  %s %v\n", e.Kind, e.Groups)
		}
	}))
	defer n.Close()
	a, _ := n.ListenPacket("a")
	b, _ := n.ListenPacket("b")

	n.Hold()
	a.WriteTo([]byte("one"), netsim.Addr("b"))
	a.WriteTo([]byte("two"), netsim.Addr("b"))
	fmt.Println("step:")
	n.Release(1)
	n.Partition([]string{"a"}, []string{"b"})
	fmt.Println("step:")
	n.Release(1)

	buf := make([]byte, 100)
	k, _, _ := b.ReadFrom(buf)
	fmt.Printf("b got %q\n", buf[:k])
	// Output:
	//   hold []
	//   send "one" a -> b
	//   send "two" a -> b
	// step:
	//   deliver "one" a -> b
	//   partition [[a] [b]]
	// step:
	//   drop "two" a -> b: partition
	// b got "one"
}
