package reliable_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/reliable"
)

// An echo server and its client over loopback UDP.
func Example() {
	ctx := context.Background()
	l, err := reliable.Listen("127.0.0.1:0", reliable.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	go func() {
		c, err := l.Accept(ctx)
		if err != nil {
			return
		}
		defer c.Close()
		for msg, err := c.Recv(ctx); err == nil; msg, err = c.Recv(ctx) {
			c.Send(ctx, append([]byte("echo: "), msg...))
		}
	}()

	c, err := reliable.Dial(ctx, l.Addr().String(), reliable.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for _, word := range []string{"hello", "world"} {
		c.Send(ctx, []byte(word))
		reply, _ := c.Recv(ctx)
		fmt.Println(string(reply))
	}
	// Output:
	// echo: hello
	// echo: world
}

// Over a link that loses 30% of the datagrams in each direction, and
// duplicates and reorders some more, every message still arrives once and
// in order.
func ExampleDialPacket() {
	ctx := context.Background()
	bad := transport.Faults{Drop: 0.3, Duplicate: 0.1, Reorder: 0.1, Seed: 1}
	lossy := func(seed int64) *transport.FaultyPacketConn {
		pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
		f := bad
		f.Seed = seed
		fp, _ := transport.NewFaultyPacketConn(pc, f)
		return fp
	}
	serverSocket, clientSocket := lossy(1), lossy(2)
	// On a link this bad, and this short, retry quickly: the timeout
	// doubles after each loss in a row, but never beyond 20 ms.
	cfg := reliable.Config{MaxBackOffInterval: 20 * time.Millisecond}
	l, _ := reliable.ListenPacket(serverSocket, cfg)
	defer l.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, _ := l.Accept(ctx)
		defer c.Close()
		for msg, err := c.Recv(ctx); err == nil; msg, err = c.Recv(ctx) {
			fmt.Printf("%s ", msg)
		}
		fmt.Println("EOF")
	}()

	c, err := reliable.DialPacket(ctx, clientSocket, l.Addr(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range 10 {
		c.Send(ctx, []byte{byte('0' + i)})
	}
	c.Close() // returns once the server has all ten
	<-done
	fmt.Println("datagrams the link dropped:", clientSocket.Stats().Dropped+serverSocket.Stats().Dropped > 0)
	// Output:
	// 0 1 2 3 4 5 6 7 8 9 EOF
	// datagrams the link dropped: true
}
