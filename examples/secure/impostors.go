package main

import (
	"context"
	"fmt"
	"sync"
)

// fakeBank is mallory's impostor: it answers as the bank does, and keeps
// the PINs it is sent.
type fakeBank struct {
	mu   sync.Mutex // protects pins
	pins []string
}

// Transfer keeps the PIN and pretends all went well.
func (f *fakeBank) Transfer(args *TransferArgs, balance *int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pins = append(f.pins, args.PIN)
	*balance = 100 - args.Amount
	return nil
}

func (f *fakeBank) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.pins...)
}

// impostors is step 4: mallory answers in the bank's place (alice's
// address for the bank now leads to her), and TLS makes alice refuse her;
// then mallory calls the bank as alice, and mutual TLS makes the bank
// refuse her.
func (s *stage) impostors(ctx context.Context, o *outcome) error {
	fmt.Fprintln(s.out, "\n4. Impostors. First a fake bank: alice's address for the bank leads to mallory's server instead.")
	for _, useTLS := range []bool{false, true} {
		fake := &fakeBank{}
		srvSide, cliSide := guard{}, guard{}
		if useTLS {
			// mallory has a certificate, but from her own authority: she
			// cannot get the bank's authority to sign one for her.
			srvSide.tls, cliSide.tls = s.other.Server, s.certs.Client
		}
		srv, err := serve("Bank", fake, srvSide, s.tr, "mallory")
		if err != nil {
			return err
		}
		err = s.transfer(ctx, srv.addr, cliSide, "alice", 10, pins["alice"])
		srv.close()
		stolen := len(fake.got()) > 0
		if !useTLS {
			o.impostorGotPIN = stolen
			fmt.Fprintf(s.out, "   Plain rpc: alice's transfer %s, as far as she can tell; the fake bank now has PINs %q.\n", outcomeOf(err), fake.got())
			continue
		}
		o.impostorRefused = err != nil && !stolen
		fmt.Fprintf(s.out, "   Over TLS: alice's transfer %s. The fake bank got %s.\n", outcomeOf(err), plural(len(fake.got()), "PIN"))
		fmt.Fprintln(s.out, "   TLS proves who the server is: its certificate must be signed by an authority alice trusts.")
	}

	fmt.Fprintln(s.out, "   Then a fake alice: mallory calls the real bank over TLS, with the PIN she sniffed in step 1.")
	for _, mutual := range []bool{false, true} {
		srvSide, aliceSide := guard{tls: s.certs.Server}, guard{tls: s.certs.Client}
		if mutual {
			srvSide.tls, aliceSide.tls = s.certs.MutualServer, s.certs.MutualClient
		}
		bank := newBank()
		srv, err := serve("Bank", bank, srvSide, s.tr, "bank")
		if err != nil {
			return err
		}
		// mallory trusts the bank's authority (its certificate is public),
		// but has no client certificate from it.
		merr := s.transfer(ctx, srv.addr, guard{tls: s.certs.Client}, "mallory", 50, pins["alice"])
		_, malloryRan := bank.state()
		aerr := s.transfer(ctx, srv.addr, aliceSide, "alice", 10, pins["alice"])
		srv.close()
		if !mutual {
			o.fakeAliceRan = merr == nil
			fmt.Fprintf(s.out, "   TLS, the server's certificate only: mallory's transfer %s; the bank cannot tell her\n", outcomeOf(merr))
			fmt.Fprintln(s.out, "   from alice: anyone may connect, and the PIN is all it checks.")
			continue
		}
		o.fakeAliceRefused = merr != nil && malloryRan == 0
		o.aliceMutualOK = aerr == nil
		fmt.Fprintln(s.out, "   Mutual TLS (the bank wants a client certificate signed by its authority):")
		fmt.Fprintf(s.out, "   mallory's transfer %s; alice's, with her certificate, %s.\n", refusedHandshake(merr, malloryRan), outcomeOf(aerr))
	}
	return nil
}

// refusedHandshake says how a call by a client without a certificate
// ended: ran is how many transfers the bank made for it. The bank ends
// the TLS handshake with an alert; whether the client sees the alert or a
// closed connection first depends on timing, so the error is not shown.
func refusedHandshake(err error, ran int) string {
	if err != nil && ran == 0 {
		return "was REFUSED: the bank closed the connection in the TLS handshake"
	}
	return outcomeOf(err)
}
