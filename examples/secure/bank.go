package main

import (
	"context"
	"crypto/tls"
	"errors"
	"sync"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// errBadPIN is what the bank answers to a transfer with the wrong PIN.
var errBadPIN = errors.New("bank: wrong PIN")

// declared are the errors that cross the wire as themselves: both sides
// of every rpc declare them, so errors.Is works on the caller's side.
var declared = rpc.WithErrors(errBadPIN, errForged, lock.ErrStaleToken)

// TransferArgs moves Amount from From to To; PIN is From's secret.
type TransferArgs struct {
	From, To string
	Amount   int
	PIN      string
}

// Bank is the service everyone attacks ("Bank.Transfer"). It is safe for
// concurrent use.
type Bank struct {
	mu        sync.Mutex // protects balances, transfers
	balances  map[string]int
	transfers int
}

// pins are the accounts' secrets. Only alice's matters.
var pins = map[string]string{"alice": "4321"}

func newBank() *Bank { return &Bank{balances: map[string]int{"alice": 100, "bob": 100}} }

// Transfer moves the money if the PIN is right, and replies with From's
// new balance.
func (b *Bank) Transfer(args *TransferArgs, balance *int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if pins[args.From] == "" || pins[args.From] != args.PIN {
		return errBadPIN
	}
	b.balances[args.From] -= args.Amount
	b.balances[args.To] += args.Amount
	b.transfers++
	*balance = b.balances[args.From]
	return nil
}

// state returns bob's balance and the transfers made, read on the bank's
// side.
func (b *Bank) state() (bob, transfers int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.balances["bob"], b.transfers
}

// guard is what a server or a client does to protect its calls.
type guard struct {
	tls    *tls.Config // TLS, with the side's configuration; nil for none
	secret []byte      // sign every message with HMAC-SHA256 under it; nil for none
	// naive signs each message on its own (naiveSigned), instead of with
	// the library's signed transport, whose signatures are bound to one
	// connection and one place in it (transport.NewSignedConn).
	naive bool
}

// server is an rpc server on 127.0.0.1 with its guard.
type server struct {
	addr   string
	srv    *rpc.Server
	served chan error
}

// serve serves rcvr as service name on a free port of 127.0.0.1.
func serve(name string, rcvr any, g guard, tr *demo.Tracer, node string) (*server, error) {
	var topts []transport.Option
	if g.tls != nil {
		topts = append(topts, transport.WithTLS(g.tls))
	}
	tcp, err := transport.ListenTCP("127.0.0.1:0", topts...)
	if err != nil {
		return nil, err
	}
	return serveOn(tcp, name, rcvr, g, tr, node)
}

// serveOn serves rcvr as service name on l (whose TLS, if any, is done),
// with g's signing; it closes l when it fails.
func serveOn(ln transport.Listener, name string, rcvr any, g guard, tr *demo.Tracer, node string) (*server, error) {
	l := g.listener(ln)
	opts := append(tr.ServerOptions(node), rpc.WithCodec(rpc.NewJSONCodec()), declared)
	srv := rpc.NewServer(opts...)
	if err := srv.RegisterName(name, rcvr); err != nil {
		l.Close()
		return nil, err
	}
	s := &server{addr: l.Addr().String(), srv: srv, served: make(chan error, 1)}
	go func() { s.served <- srv.Serve(l) }() // exits when close closes srv
	return s, nil
}

// close stops the server and waits for it.
func (s *server) close() {
	s.srv.Close()
	<-s.served
}

// dial connects node to the server at addr with the client side of g.
func dial(ctx context.Context, addr string, g guard, tr *demo.Tracer, node string) (*rpc.Client, error) {
	var topts []transport.Option
	if g.tls != nil {
		topts = append(topts, transport.WithTLS(g.tls))
	}
	return dialVia(ctx, addr, g, tr, node, transport.NewTCPDialer(topts...))
}

// dialVia connects node to the server at addr through d (whose TLS, if
// any, is done), with g's signing.
func dialVia(ctx context.Context, addr string, g guard, tr *demo.Tracer, node string, d transport.Dialer) (*rpc.Client, error) {
	opts := append(tr.ClientOptions(node, "bank"), rpc.WithCodec(rpc.NewJSONCodec()), declared,
		rpc.WithDialer(g.dialer(d)))
	return rpc.Dial(ctx, addr, opts...)
}

// listener wraps l with the server side of g's signing, if any.
func (g guard) listener(l transport.Listener) transport.Listener {
	switch {
	case g.secret == nil:
		return l
	case g.naive:
		return naiveListener{l, g.secret}
	}
	return transport.NewSignedListener(l, g.secret)
}

// dialer wraps d with the client side of g's signing, if any.
func (g guard) dialer(d transport.Dialer) transport.Dialer {
	switch {
	case g.secret == nil:
		return d
	case g.naive:
		return transport.DialerFunc(func(ctx context.Context, addr string) (transport.Conn, error) {
			c, err := d.Dial(ctx, addr)
			if err != nil {
				return nil, err
			}
			return &naiveSigned{Conn: c, key: g.secret}, nil
		})
	}
	return transport.NewSignedDialer(d, g.secret)
}
