// Command secure attacks an rpc service the way a man in the middle can,
// and fixes each attack in turn, narrating both:
//
//  1. Sniffing: mallory reads alice's PIN in a plaintext request; over TLS
//     she reads nothing.
//  2. Tampering: mallory changes the amount in flight; with every message
//     signed (HMAC-SHA256 under a shared key) the change is refused.
//  3. Replay: mallory resends alice's signed request, unchanged, and it
//     runs again when each message is signed on its own; with the
//     library's signed transport, whose signatures hold for one
//     connection and one place in it, the replay is refused.
//  4. Impostors: a fake bank collects alice's PIN; with TLS, alice refuses
//     its certificate. A fake alice, with the sniffed PIN, moves alice's
//     money; with mutual TLS, the bank refuses her.
//  5. A forged fencing token locks every honest holder out of a
//     lock.FencedStore; with tokens signed by the lock service, the
//     forgery is refused.
//
// Everything runs over TCP on 127.0.0.1, with throwaway certificates from
// package devcert; mallory is a proxy on the path. Every verdict is
// computed from what happened: what mallory captured, what the bank did.
//
// With -dashboard, steps 1 and 2 run round after round on the simulated
// network of package netsim, drawn on a web page: alice, mallory (a node
// relaying messages) and the bank; TLS runs over netsim conns seen as
// streams (live.go).
//
//	go run ./examples/secure
//	go run ./examples/secure -trace /tmp/secure   # the space-time diagram of the calls
//	go run ./examples/secure -dashboard 127.0.0.1:8080   # live, for a lecture: mallory on a web page
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/distsys-kit/distsys/devcert"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
)

func main() { demo.Main("secure", run) }

// maxTraceEvents bounds the -trace diagram.
const maxTraceEvents = 2000

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("secure", flag.ContinueOnError)
	fs.SetOutput(stderr)
	traceDir := fs.String("trace", "", "write the space-time diagram of the run to this `directory`")
	demo.DashboardFlag(fs)
	if ok, err := demo.Parse(fs, args); !ok {
		return err // nil after -h
	}
	if fs.NArg() > 0 {
		return demo.Usagef(fs, "secure takes no arguments, only flags (got %q)", fs.Arg(0))
	}
	tr := demo.NewTracer(*traceDir, "secure: attacks and their fixes", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if fs.Lookup("dashboard").Value.String() != "" {
		return live(ctx, fs, tr, stdout)
	}
	if _, err := show(ctx, tr, stdout); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// outcome is what the run showed, for the tests: the narration is made
// from the same values.
type outcome struct {
	sniffedPlain, sniffedTLS        bool // mallory's capture held the PIN
	tamperedPaid                    int  // what bob received when alice sent 10 and mallory changed it
	tamperRefused                   bool // the signed, tampered request was refused
	replayRan                       int  // times the replayed request ran, signed only
	replayRefused                   bool // with nonces, the replay did not run
	impostorGotPIN, impostorRefused bool // the fake bank got the PIN in plain rpc; TLS refused it
	fakeAliceRan, fakeAliceRefused  bool // mallory as alice: through with server TLS; refused with mutual TLS
	aliceMutualOK                   bool // alice, with her certificate, through mutual TLS
	forgedAccepted, aliceLockedOut  bool // tokens on trust: the forgery passes and shuts alice out
	forgedRefused                   bool // signed tokens: the forgery is refused
}

// show runs the five steps, narrating on out.
func show(ctx context.Context, tr *demo.Tracer, out io.Writer) (outcome, error) {
	var o outcome
	certs, err := devcert.New()
	if err != nil {
		return o, err
	}
	other, err := devcert.New()
	if err != nil {
		return o, err
	}
	s := &stage{out: out, tr: tr, certs: certs, other: other}
	fmt.Fprintln(out, "secure: alice pays bob through a bank's rpc service on 127.0.0.1 (JSON, so that bytes are legible).")
	fmt.Fprintln(out, "mallory is on the path between them: a proxy that sees, and may change, every byte alice sends.")
	for _, step := range []func(context.Context, *outcome) error{s.sniffing, s.tampering, s.replaying, s.impostors, s.forgery} {
		if err := step(ctx, &o); err != nil {
			return o, err
		}
	}
	fmt.Fprintln(out, "\nTLS hides and protects the bytes and proves the server; mutual TLS proves the client too; a")
	fmt.Fprintln(out, "signature proves who sent a message, not when; fresh nonces and sequence numbers prove it is new.")
	fmt.Fprintln(out, "None of them makes a")
	fmt.Fprintln(out, "number in a message trustworthy: the fencing token needed a signature of its own.")
	return o, ctx.Err()
}
