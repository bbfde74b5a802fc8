package rpc

import (
	"context"
	"time"
)

// DefaultClientEndTimeout is how long ClientEnd.Call waits for a reply
// when NewClientEnd is given no timeout.
const DefaultClientEndTimeout = time.Second

// ClientEnd is a client shaped like MIT's labrpc (6.5840): its Call takes no
// context and reports with a bool whether a reply came back. It exists so
// that lab code ports with one change, the type of its peers:
//
//	peers []*labrpc.ClientEnd  →  peers []*rpc.ClientEnd
//	ok := rf.peers[i].Call("Raft.RequestVote", &args, &reply) // unchanged
//
// The server side needs no adapter: Register serves labrpc's handlers,
// which return nothing, beside net/rpc's. New code should use Client.Call,
// whose context bounds the wait and whose typed errors say why a call
// failed; labrpc's bool cannot. A ClientEnd is safe for concurrent use by
// multiple goroutines.
type ClientEnd struct {
	c       *Client
	timeout time.Duration
}

// NewClientEnd returns a labrpc-shaped view of c, whose calls each wait at
// most timeout for their reply; zero or negative means
// DefaultClientEndTimeout. Closing c ends the ClientEnd too.
func NewClientEnd(c *Client, timeout time.Duration) *ClientEnd {
	if timeout <= 0 {
		timeout = DefaultClientEndTimeout
	}
	return &ClientEnd{c: c, timeout: timeout}
}

// Call calls svcMeth ("Service.Method") as Client.Call does, and returns
// true if the server replied, false otherwise, as labrpc's Call does:
// the request or the reply was lost, the timeout passed, the server or
// client is closed, or the server refused the call or its handler returned
// an error. Like labrpc's, a false does not tell whether the handler ran.
func (e *ClientEnd) Call(svcMeth string, args, reply any) bool {
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	return e.c.Call(ctx, svcMeth, args, reply) == nil
}
