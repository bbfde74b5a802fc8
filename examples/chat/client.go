package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/transport"
)

// smallBuffer is the kernel and transport buffer size used in this demo, so
// that a slow reader is felt after a few kilobytes, not a few megabytes.
const smallBuffer = 4 << 10

// server is the chat room behind a TCP listener.
type server struct {
	ln   net.Listener
	room *room
	done chan struct{}
}

func startServer(ctx context.Context, queue int, tr *demo.Tracer, log io.Writer) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{ln: ln, room: newRoom(queue, log), done: make(chan struct{})}
	s.room.discarded = func(to string, msg []byte) { tr.Discard("server", to, "chat", msg, "queue full") }
	go func() { // exits when ln is closed
		defer close(s.done)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			nc.(*net.TCPConn).SetWriteBuffer(smallBuffer)
			s.room.join(ctx, tr.WrapConn("server", transport.NewConn(nc, transport.WithSendBuffer(smallBuffer))))
		}
	}()
	return s, nil
}

func (s *server) addr() string { return s.ln.Addr().String() }

func (s *server) stop() {
	s.ln.Close()
	<-s.done
}

// client is one member of the room.
type client struct {
	name     string
	conn     transport.Conn
	received int // messages from other members; written by readAll only
}

// joinRoom connects, sends the member's name and waits for the welcome.
func joinRoom(ctx context.Context, addr, name string, slow bool, tr *demo.Tracer) (*client, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if slow {
		nc.(*net.TCPConn).SetReadBuffer(smallBuffer)
	}
	c := &client{name: name, conn: tr.WrapConn(name, transport.NewConn(nc))}
	if err := c.conn.Send(ctx, []byte(name)); err != nil {
		c.conn.Close()
		return nil, err
	}
	if _, err := c.conn.Recv(ctx); err != nil { // "* welcome, name"
		c.conn.Close()
		return nil, fmt.Errorf("join %s: %w", name, err)
	}
	return c, nil
}

// talk sends n messages, pausing between them.
func (c *client) talk(ctx context.Context, n int, pace time.Duration) {
	for i := range n {
		msg := fmt.Sprintf("message %d of %d %s", i+1, n, filler)
		if err := c.conn.Send(ctx, []byte(msg)); err != nil {
			return
		}
		if pace > 0 {
			time.Sleep(pace)
		}
	}
}

// readAll counts the messages of other members until the server hangs up.
// carol is the slow reader: until talkOver is closed, she pauses for slow
// after each message. alice and bob read at full speed.
func (c *client) readAll(ctx context.Context, talkOver <-chan struct{}, slow time.Duration) {
	for {
		msg, err := c.conn.Recv(ctx)
		if err != nil {
			return
		}
		if !strings.HasPrefix(string(msg), "*") {
			c.received++
		}
		if c.name != "carol" {
			continue
		}
		select {
		case <-talkOver:
		case <-time.After(slow):
		}
	}
}
