package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"

	"github.com/distsys-kit/distsys/transport"
)

// naiveSigned signs each message on its own: it appends HMAC-SHA256(key,
// message) to what it sends, and refuses a message whose MAC is wrong. It
// is the first idea everyone has, and step 3 shows its flaw: nothing ties
// a signature to a connection or to a place in it, so a message recorded
// once is valid for ever, anywhere. transport.NewSignedConn fixes that by
// signing under a key made from both ends' fresh nonces, with a sequence
// number in every message.
type naiveSigned struct {
	transport.Conn
	key []byte
}

// Send sends msg followed by its MAC.
func (c *naiveSigned) Send(ctx context.Context, msg []byte) error {
	return c.Conn.Send(ctx, append(msg[:len(msg):len(msg)], c.mac(msg)...))
}

// Recv receives a message and checks its MAC; a wrong one ends the
// connection with transport.ErrUnauthenticated.
func (c *naiveSigned) Recv(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.Recv(ctx)
	if err != nil {
		return nil, err
	}
	if len(b) < sha256.Size {
		c.Close()
		return nil, fmt.Errorf("naive signing: message too short: %w", transport.ErrUnauthenticated)
	}
	msg, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if !hmac.Equal(sum, c.mac(msg)) {
		c.Close()
		return nil, fmt.Errorf("naive signing: %w", transport.ErrUnauthenticated)
	}
	return msg, nil
}

func (c *naiveSigned) mac(msg []byte) []byte {
	h := hmac.New(sha256.New, c.key)
	h.Write(msg)
	return h.Sum(nil)
}

// naiveListener accepts naiveSigned conns.
type naiveListener struct {
	transport.Listener
	key []byte
}

// Accept accepts a conn and wraps it.
func (l naiveListener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return &naiveSigned{Conn: c, key: l.key}, nil
}
