package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
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
	nonces bool        // a fresh nonce in every request; the server refuses one it has seen
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
	l, err := transport.ListenTCP("127.0.0.1:0", topts...)
	if err != nil {
		return nil, err
	}
	opts := append(tr.ServerOptions(node), rpc.WithCodec(rpc.NewJSONCodec()), declared)
	opts = append(opts, signing(g.secret)...)
	if g.nonces {
		seen := &nonceSet{seen: map[string]bool{}}
		opts = append(opts, rpc.WithAuth(seen.check))
	}
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
	opts := append(tr.ClientOptions(node, "bank"), rpc.WithCodec(rpc.NewJSONCodec()), declared,
		rpc.WithDialer(transport.NewTCPDialer(topts...)))
	opts = append(opts, signing(g.secret)...)
	if g.nonces {
		opts = append(opts, rpc.WithClientInterceptor(addNonce))
	}
	return rpc.Dial(ctx, addr, opts...)
}

// signing returns the options that sign every message under secret, on
// either side, or none without a secret.
//
// This is rpc.WithSharedSecret: one HMAC-SHA256 per message, under a key
// both sides hold. It stops strangers and tampering, but a message signed
// once is valid for ever, on any connection: a replay passes (step 3).
func signing(secret []byte) []rpc.Option {
	if secret == nil {
		return nil
	}
	return []rpc.Option{rpc.WithSharedSecret(secret)}
}

// addNonce puts a fresh random nonce in every request's metadata, which
// the signature covers, so that a replayed request carries a nonce the
// server has seen.
func addNonce(ctx context.Context, call *rpc.Call, invoke rpc.Invoker) error {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	if call.Metadata == nil {
		call.Metadata = rpc.Metadata{}
	}
	call.Metadata["nonce"] = hex.EncodeToString(b)
	return invoke(ctx, call)
}

// nonceSet is the server's memory of the nonces it has seen. A real server
// bounds it with a time window (requests older than it are refused, and
// their nonces forgotten); the demo's few calls need no bound.
type nonceSet struct {
	mu   sync.Mutex // protects seen
	seen map[string]bool
}

// check refuses a request without a nonce, or with one seen before.
func (s *nonceSet) check(_ context.Context, call *rpc.ServerCall) error {
	nonce := call.Metadata["nonce"]
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case nonce == "":
		return errors.New("no nonce")
	case s.seen[nonce]:
		return fmt.Errorf("nonce %s… seen before: a replay", nonce[:8])
	}
	s.seen[nonce] = true
	return nil
}
