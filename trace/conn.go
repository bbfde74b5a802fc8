package trace

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/distsys-kit/distsys/transport"
)

// Conn is a transport.Conn that traces what passes through it. Send stamps
// each message with the node's vector clock and records a send event;
// Recv takes the stamp off, merges it into the node's clock and records a
// receive event. The code above sees its own messages, unchanged.
//
// The stamp is a small header in front of each message on the wire (the
// sender's name, the label, and the clock: a few bytes per node), so both
// ends of a connection must be wrapped, by the same Recorder or by
// Recorders in different processes. A message without the
// header fails Recv with ErrNotTraced, a damaged header with ErrBadHeader;
// either way that message is discarded and the conn stays usable.
//
// Conn is safe for concurrent use as transport.Conn describes: Send from
// many goroutines, Recv from one at a time.
type Conn struct {
	node  *Node
	inner transport.Conn

	mu   sync.Mutex // protects peer
	peer string     // the peer's node name once heard from; its address before
}

var _ transport.Conn = (*Conn)(nil)

// Wrap returns c traced as a conn of node n. The returned Conn owns c and
// closes it on Close.
func (n *Node) Wrap(c transport.Conn) *Conn {
	return n.wrap(c, addrString(c.RemoteAddr()))
}

func (n *Node) wrap(c transport.Conn, peer string) *Conn {
	return &Conn{node: n, inner: c, peer: peer}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// Send records a send event, ticking the node's clock, and sends msg behind
// a header carrying the new clock. It returns what the wrapped conn's Send
// returns; if that is an error, the message also gets a drop event, since it
// will not arrive. A label set with ContextWithLabel travels with the
// message and names its arrow in the diagram.
func (c *Conn) Send(ctx context.Context, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err // nothing happened: record nothing
	}
	e, h := c.node.recordSend(c.Peer(), labelFrom(ctx), msg)
	wire := appendHeader(make([]byte, 0, 64+len(msg)), h)
	wire = append(wire, msg...)
	if err := c.inner.Send(ctx, wire); err != nil {
		c.node.r.drop(h, msg, e.Peer, "send failed: "+err.Error())
		return err
	}
	return nil
}

// Recv receives the next message, records a receive event (merging the
// sender's clock into the node's and ticking it) and returns the message
// without its header. It returns the wrapped conn's errors unchanged, and
// an error matching ErrNotTraced or ErrBadHeader for a message that is not
// properly stamped; such a message is not recorded.
func (c *Conn) Recv(ctx context.Context) ([]byte, error) {
	wire, err := c.inner.Recv(ctx)
	if err != nil {
		return nil, err
	}
	h, msg, err := splitHeader(wire)
	if err != nil {
		return nil, fmt.Errorf("recv from %s: %w", addrString(c.inner.RemoteAddr()), err)
	}
	c.mu.Lock()
	c.peer = h.from
	c.mu.Unlock()
	c.node.recordReceive(h, msg)
	return msg, nil
}

// Peer returns the name of the node at the other end, as far as this conn
// knows: the sender named in the last message received, or before any, the
// address dialed or the wrapped conn's remote address.
func (c *Conn) Peer() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peer
}

// Node returns the node the conn belongs to.
func (c *Conn) Node() *Node { return c.node }

// LocalAddr returns the wrapped conn's local address.
func (c *Conn) LocalAddr() net.Addr { return c.inner.LocalAddr() }

// RemoteAddr returns the wrapped conn's remote address.
func (c *Conn) RemoteAddr() net.Addr { return c.inner.RemoteAddr() }

// Close closes the wrapped conn.
func (c *Conn) Close() error { return c.inner.Close() }

// Listener wraps a transport.Listener so that every conn it accepts is
// traced as a conn of one node. It is safe for concurrent use.
type Listener struct {
	node  *Node
	inner transport.Listener
}

var _ transport.Listener = (*Listener)(nil)

// WrapListener returns l with every accepted conn wrapped by n.Wrap. The
// returned Listener owns l and closes it on Close.
func (n *Node) WrapListener(l transport.Listener) *Listener {
	return &Listener{node: n, inner: l}
}

// Accept waits for the next conn, as the wrapped listener's Accept does,
// and returns it traced.
func (l *Listener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := l.inner.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return l.node.Wrap(c), nil
}

// Addr returns the wrapped listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Close closes the wrapped listener.
func (l *Listener) Close() error { return l.inner.Close() }

// Dialer wraps a transport.Dialer so that every conn it opens is traced as
// a conn of one node. It is safe for concurrent use if the wrapped Dialer
// is.
type Dialer struct {
	node  *Node
	inner transport.Dialer
}

var _ transport.Dialer = (*Dialer)(nil)

// WrapDialer returns d with every conn it dials wrapped by n.Wrap. Until the
// peer's first message names it, the conn calls its peer by the address
// dialed, which on a netsim network is the peer's node name.
func (n *Node) WrapDialer(d transport.Dialer) *Dialer {
	return &Dialer{node: n, inner: d}
}

// Dial dials addr with the wrapped Dialer and returns the conn traced.
func (d *Dialer) Dial(ctx context.Context, addr string) (transport.Conn, error) {
	c, err := d.inner.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return d.node.wrap(c, addr), nil
}

// labelKey is the context key of the label; see ContextWithLabel.
type labelKey struct{}

// ContextWithLabel returns a copy of ctx carrying label. A traced Conn's
// Send called with it sends label along with the message, so that both its
// send and its receive events, and its arrow in the diagram, are named.
func ContextWithLabel(ctx context.Context, label string) context.Context {
	return context.WithValue(ctx, labelKey{}, label)
}

func labelFrom(ctx context.Context) string {
	s, _ := ctx.Value(labelKey{}).(string)
	return s
}

// replySuffix ends the label of a reply: "KV.Get reply".
const replySuffix = " reply"

// ReplyLabel returns the label of a reply to a message labelled label:
// label + " reply", as package tracerpc names the replies of rpc calls
// ("KV.Get reply"). Replies are told apart by it: a reply sent twice was
// answered from a reply cache, a request sent twice was retried.
func ReplyLabel(label string) string { return label + replySuffix }

// IsReplyLabel reports whether label is the label of a reply (see
// ReplyLabel).
func IsReplyLabel(label string) bool { return strings.HasSuffix(label, replySuffix) }
