package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"sync"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// liveMallory is mallory on the page's network: the node "mallory", where
// alice's address for the bank leads. She relays every message between
// alice and the bank, records what alice sends, and may change it on the
// way (tamper), as the TCP proxy of mallory.go does with bytes.
//
//	alice ──▶ mallory ──▶ bank      (nodes of the page)
//	          (records, tampers)
type liveMallory struct {
	ln     transport.Listener
	nw     *netsim.Network
	tamper func([]byte) []byte // applied to what alice sends; nil passes it unchanged
	ctx    context.Context     // ends when close is called
	cancel context.CancelFunc

	wg sync.WaitGroup // the relay's goroutines

	mu    sync.Mutex // protects heard, conns
	heard bytes.Buffer
	conns []transport.Conn
}

// startLiveMallory listens on the node "mallory" of nw, and relays each
// conn alice makes to the node "bank".
func startLiveMallory(nw *netsim.Network, tamper func([]byte) []byte) (*liveMallory, error) {
	ln, err := nw.Listen("mallory")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &liveMallory{ln: ln, nw: nw, tamper: tamper, ctx: ctx, cancel: cancel}
	m.wg.Go(m.accept) // exits when close closes ln, or mallory crashes
	return m, nil
}

// accept relays every conn alice makes.
func (m *liveMallory) accept() {
	for {
		in, err := m.ln.Accept(m.ctx)
		if err != nil {
			return
		}
		out, err := m.nw.Dial(m.ctx, "mallory", "bank")
		if err != nil {
			in.Close()
			continue
		}
		m.mu.Lock()
		m.conns = append(m.conns, in, out)
		m.mu.Unlock()
		m.wg.Go(func() { m.relay(out, in, true) })  // alice to the bank; exits when either conn closes
		m.wg.Go(func() { m.relay(in, out, false) }) // the bank to alice
	}
}

// relay forwards src's messages to dst; fromAlice says which way.
func (m *liveMallory) relay(dst, src transport.Conn, fromAlice bool) {
	defer dst.Close()
	for {
		msg, err := src.Recv(m.ctx)
		if err != nil {
			src.Close()
			return
		}
		if fromAlice {
			m.mu.Lock()
			m.heard.Write(msg)
			m.mu.Unlock()
			if m.tamper != nil {
				msg = m.tamper(msg)
			}
		}
		if err := dst.Send(m.ctx, msg); err != nil {
			return
		}
	}
}

// recorded returns a copy of everything alice has sent through mallory.
func (m *liveMallory) recorded() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.heard.Bytes())
}

// close stops the relay and waits for its goroutines.
func (m *liveMallory) close() {
	m.ln.Close()
	m.cancel()
	m.mu.Lock()
	for _, c := range m.conns {
		c.Close()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// tlsListener speaks TLS with cfg on every conn l accepts: the message
// conn is seen as a stream (transport.NewNetConn), TLS runs over that
// stream, and the TLS stream is framed into messages again
// (transport.NewConn), as transport.WithTLS does over TCP.
type tlsListener struct {
	transport.Listener
	cfg *tls.Config
}

// Accept accepts the next conn, with TLS on it; the handshake happens on
// its first Send or Recv.
func (l tlsListener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return transport.NewConn(tls.Server(transport.NewNetConn(c, 0), l.cfg)), nil
}

// liveDialer dials from the node "alice" of nw, with TLS under cfg if it
// is not nil.
func liveDialer(nw *netsim.Network, cfg *tls.Config) transport.Dialer {
	return transport.DialerFunc(func(ctx context.Context, addr string) (transport.Conn, error) {
		c, err := nw.Dial(ctx, "alice", addr)
		if err != nil || cfg == nil {
			return c, err
		}
		return transport.NewConn(tls.Client(transport.NewNetConn(c, 0), cfg)), nil
	})
}
