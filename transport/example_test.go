package transport_test

import (
	"context"
	"fmt"
	"net"

	"github.com/distsys-kit/distsys/transport"
)

// A TCP echo server and its client.
func Example() {
	ctx := context.Background()
	l, _ := transport.ListenTCP("127.0.0.1:0")
	defer l.Close()
	go func() {
		c, _ := l.Accept(ctx)
		defer c.Close()
		for msg, err := c.Recv(ctx); err == nil; msg, err = c.Recv(ctx) {
			c.Send(ctx, append([]byte("echo: "), msg...))
		}
	}()

	c, _ := transport.DialTCP(ctx, l.Addr().String())
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

// A lossy link: with the same seed, the same messages are lost every run.
func ExampleNewFaultyConn() {
	ctx := context.Background()
	x, y := net.Pipe()
	sender, _ := transport.NewFaultyConn(transport.NewConn(x), transport.Faults{Drop: 0.3, Seed: 10})
	receiver := transport.NewConn(y)
	defer receiver.Close()

	go func() {
		for i := range 10 {
			sender.Send(ctx, []byte{byte('0' + i)})
		}
		sender.Close() // the receiver sees io.EOF after the last message
	}()
	var got []byte
	for msg, err := receiver.Recv(ctx); err == nil; msg, err = receiver.Recv(ctx) {
		got = append(got, msg...)
	}
	fmt.Printf("sent 0123456789, received %s\n", got)
	fmt.Printf("the faults dropped %d\n", sender.Stats().Dropped)
	// Output:
	// sent 0123456789, received 0124679
	// the faults dropped 3
}

// A UDP socket that loses and repeats datagrams, seeded so that the run
// can be replayed.
func ExampleNewFaultyPacketConn() {
	ctx := context.Background()
	receiver, _ := transport.ListenUDP("127.0.0.1:0")
	defer receiver.Close()

	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	lossy, _ := transport.NewFaultyPacketConn(pc, transport.Faults{Drop: 0.25, Duplicate: 0.25, Seed: 4})
	sender := transport.NewEndpoint(lossy)
	defer sender.Close()

	for i := range 8 {
		sender.SendTo(ctx, []byte{byte('a' + i)}, receiver.LocalAddr())
	}
	s := lossy.Stats()
	var got []byte
	for range s.Delivered {
		msg, _, _ := receiver.RecvFrom(ctx)
		got = append(got, msg...)
	}
	fmt.Printf("sent abcdefgh, received %s (%d dropped, %d duplicated)\n", got, s.Dropped, s.Duplicated)
	// Output:
	// sent abcdefgh, received abcdeggh (1 dropped, 1 duplicated)
}
