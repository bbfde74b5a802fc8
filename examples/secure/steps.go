package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/distsys-kit/distsys/devcert"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/transport"
)

// callTimeout bounds every call of the demo: on loopback an answer takes
// microseconds, and a call refused by a broken handshake fails at once.
const callTimeout = 2 * time.Second

// secret is the key alice and the bank share for HMAC signatures.
var secret = []byte("alice and the bank, and nobody else")

// stage is what every step uses.
type stage struct {
	out   io.Writer
	tr    *demo.Tracer
	certs *devcert.Set // the bank's authority, which alice trusts
	other *devcert.Set // mallory's own authority, which nobody trusts
}

// transfer has node send amount from alice to bob through the server at
// addr, guarded by g, with pin. It returns the call's error.
func (s *stage) transfer(ctx context.Context, addr string, g guard, node string, amount int, pin string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	rc, err := dial(ctx, addr, g, s.tr, node)
	if err != nil {
		return err
	}
	defer rc.Close()
	var balance int
	return rc.Call(ctx, "Bank.Transfer", &TransferArgs{From: "alice", To: "bob", Amount: amount, PIN: pin}, &balance)
}

// sniffing is step 1: mallory reads a plaintext request, then cannot read
// the same request over TLS.
func (s *stage) sniffing(ctx context.Context, o *outcome) error {
	fmt.Fprintln(s.out, "\n1. Sniffing. alice sends bob 10 with her PIN; mallory, on the path, keeps every byte she sends.")
	for _, useTLS := range []bool{false, true} {
		srvSide, cliSide := guard{}, guard{}
		if useTLS {
			srvSide.tls, cliSide.tls = s.certs.Server, s.certs.Client
		}
		_, heard, err, setup := s.pay(ctx, srvSide, cliSide, nil, nil)
		if setup != nil {
			return setup
		}
		leaked := bytes.Contains(heard, []byte(pins["alice"]))
		switch {
		case !useTLS:
			o.sniffedPlain = leaked
			fmt.Fprintf(s.out, "   Plain rpc: the transfer %s; mallory's capture holds\n      %s\n", outcomeOf(err), excerpt(heard))
			if leaked {
				fmt.Fprintln(s.out, "   She has alice's PIN, and knows whom alice pays, and how much.")
			}
		default:
			o.sniffedTLS = leaked
			fmt.Fprintf(s.out, "   Over TLS (transport.WithTLS): the transfer %s; mallory captured the whole exchange, and\n", outcomeOf(err))
			if leaked {
				fmt.Fprintln(s.out, "   the PIN is IN it: a bug.")
			} else {
				fmt.Fprintln(s.out, "   neither the PIN nor any name is in it: TLS encrypts everything after the handshake.")
			}
		}
	}
	return nil
}

// tampering is step 2: mallory changes the amount in flight; then alice
// and the bank sign every message, and the change is caught.
func (s *stage) tampering(ctx context.Context, o *outcome) error {
	fmt.Fprintln(s.out, "\n2. Tampering. mallory rewrites \"Amount\":10 into \"Amount\":90 in what alice sends.")
	tamper := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(`"Amount":10`), []byte(`"Amount":90`)) }
	for _, sign := range []bool{false, true} {
		g := guard{}
		if sign {
			g.secret = secret
		}
		bank, _, err, setup := s.pay(ctx, g, g, tamper, nil)
		if setup != nil {
			return setup
		}
		bob, _ := bank.state()
		if !sign {
			o.tamperedPaid = bob - 100
			fmt.Fprintf(s.out, "   Plain rpc: the transfer %s, and bob received %d.\n", outcomeOf(err), bob-100)
			continue
		}
		o.tamperRefused = errors.Is(err, transport.ErrUnauthenticated)
		fmt.Fprintf(s.out, "   Signed (HMAC-SHA256 of every message, a key both share): the transfer %s;\n", outcomeOf(err))
		fmt.Fprintf(s.out, "   bob received %d. A changed byte breaks the signature, and mallory cannot sign without the key.\n", bob-100)
	}
	return nil
}

// replaying is step 3: mallory resends alice's signed request, recorded
// byte for byte, on a connection of her own; first with each message
// signed on its own, then over the library's signed transport, whose
// signatures hold for one connection only.
func (s *stage) replaying(ctx context.Context, o *outcome) error {
	fmt.Fprintln(s.out, "\n3. Replay. Requests are signed now. alice sends bob 10; mallory records her bytes and sends them")
	fmt.Fprintln(s.out, "   again, unchanged, on a connection of her own.")
	for _, naive := range []bool{true, false} {
		g := guard{secret: secret, naive: naive}
		replayAfter := func(addr string, heard []byte) { replay(ctx, addr, heard) }
		bank, _, err, setup := s.pay(ctx, g, g, nil, replayAfter)
		if setup != nil {
			return setup
		}
		bob, transfers := bank.state()
		replayed := "was REFUSED"
		if transfers > 1 {
			replayed = "RAN AGAIN"
		}
		if naive {
			o.replayRan = transfers - 1
			fmt.Fprintf(s.out, "   Each message signed on its own: alice's transfer %s; the replay %s. The bank made %s:\n",
				outcomeOf(err), replayed, plural(transfers, "transfer"))
			fmt.Fprintf(s.out, "   bob received %d. The signature is right: it is alice's own request. A signature says who, not when.\n", bob-100)
			continue
		}
		o.replayRefused = transfers == 1
		fmt.Fprintf(s.out, "   Signed for one connection (transport.NewSignedConn: a key from both ends' fresh nonces, a number\n")
		fmt.Fprintf(s.out, "   in every message): alice's transfer %s; the replay %s. The bank made %s: bob received %d.\n",
			outcomeOf(err), replayed, plural(transfers, "transfer"), bob-100)
	}
	return nil
}

// pay runs one transfer of 10 from alice to bob through mallory: a fresh
// bank served with srvSide, mallory in front of it (tamper, if not nil,
// changes what alice sends), alice calling with cliSide. then, if not nil,
// runs before the bank stops, with its address and mallory's recording.
// It returns the bank, the recording and the transfer's error; setup is
// an error that stops the demo.
func (s *stage) pay(ctx context.Context, srvSide, cliSide guard, tamper func([]byte) []byte,
	then func(addr string, heard []byte)) (bank *Bank, heard []byte, err, setup error) {
	bank = newBank()
	srv, setup := serve("Bank", bank, srvSide, s.tr, "bank")
	if setup != nil {
		return nil, nil, nil, setup
	}
	defer srv.close()
	m, setup := newMallory(srv.addr, tamper)
	if setup != nil {
		return nil, nil, nil, setup
	}
	err = s.transfer(ctx, m.addr(), cliSide, "alice", 10, pins["alice"])
	m.close()
	heard = m.recorded()
	if then != nil {
		then(srv.addr, heard)
	}
	return bank, heard, err, nil
}

// replay sends data to addr on a new connection and waits until the
// server closes it or a second has passed, so that what the server does
// with it is done.
func replay(ctx context.Context, addr string, data []byte) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return
	}
	defer c.Close()
	if _, err := c.Write(data); err != nil {
		return
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, c)
}

// outcomeOf says how a call ended.
func outcomeOf(err error) string {
	switch {
	case err == nil:
		return "went through"
	case errors.Is(err, transport.ErrUnauthenticated):
		return "was REFUSED (transport: message failed authentication)"
	case errors.Is(err, errBadPIN):
		return "was REFUSED (wrong PIN)"
	}
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return "FAILED: alice does not trust the server's certificate"
	}
	return "FAILED: " + err.Error()
}

// excerpt returns the first JSON object in b, or the first bytes of b.
func excerpt(b []byte) string {
	if i := bytes.Index(b, []byte(`{"From"`)); i >= 0 {
		if j := bytes.IndexByte(b[i:], '}'); j >= 0 {
			return string(b[i : i+j+1])
		}
	}
	return fmt.Sprintf("%q", b[:min(len(b), 60)])
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
