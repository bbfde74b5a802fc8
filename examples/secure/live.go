package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/devcert"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// liveWay is one of the ways alice pays in a live round.
type liveWay struct {
	name string
	g    guard // the bank's side; alice's TLS config is client
	tls  bool
}

// live runs steps 1 and 2 (sniffing and tampering) for a lecture, under
// the dashboard of -dashboard: every round alice pays bob 10 through
// mallory, on the page's network, three ways (plain rpc, every message
// signed for one connection, TLS), and mallory reads what passes and
// rewrites the amount to 90, until Ctrl-C. Each way's line says whether
// mallory read the PIN and what bob received. The instructor crashes
// mallory or the bank and cuts links: alice's path to the bank goes
// through mallory, and nothing passes without her.
func live(ctx context.Context, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	certs, err := devcert.New()
	if err != nil {
		return err
	}
	tr.RecordInMemory() // the rpc calls carry stamps: the page names them
	nw := netsim.NewNetwork(1, tr.NetsimOptions()...)
	defer nw.Close()
	dash, err := demo.StartDashboard(fs, nw, stdout,
		dashboard.WithTitle("secure: mallory in the middle, and what TLS and signatures do"),
		dashboard.WithNodes("alice", "mallory", "bank"))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := dash.Out()
	fmt.Fprintln(out, "secure: each round alice pays bob 10 through the bank's rpc service. Her path to \"bank\" goes")
	fmt.Fprintln(out, "through \"mallory\", who keeps every byte alice sends and rewrites \"Amount\":10 into \"Amount\":90.")
	fmt.Fprintln(out, "Three ways: plain rpc, every message signed for one connection (transport.NewSignedConn), and TLS.")
	ways := []liveWay{
		{name: "plain rpc:"},
		{name: "signed:", g: guard{secret: secret}},
		{name: "TLS:", g: guard{tls: certs.Server}, tls: true},
	}
	tamper := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(`"Amount":10`), []byte(`"Amount":90`)) }
	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(out, "Round %d:\n", r)
		for _, w := range ways {
			line, err := payLive(ctx, nw, tr, w, certs, tamper)
			if err != nil {
				fmt.Fprintf(out, "   %-10s %v.\n", w.name, err)
				continue
			}
			fmt.Fprintf(out, "   %-10s %s\n", w.name, line)
		}
		return nil
	}
	if err := dash.Live(ctx, demo.RoundGap, round, nil); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// payLive has alice pay bob 10 through mallory with w, on a fresh bank,
// and says what happened; err is what kept the payment from starting (a
// node of the path is down).
func payLive(ctx context.Context, nw *netsim.Network, tr *demo.Tracer, w liveWay, certs *devcert.Set, tamper func([]byte) []byte) (string, error) {
	ln, err := nw.Listen("bank")
	if err != nil {
		return "", downOr("the bank is down: alice's payment cannot be made", err)
	}
	var l transport.Listener = ln
	if w.tls {
		l = tlsListener{ln, w.g.tls}
	}
	bank := newBank()
	srv, err := serveOn(l, "Bank", bank, w.g, tr, "bank")
	if err != nil {
		return "", err
	}
	defer srv.close()
	m, err := startLiveMallory(nw, tamper)
	if err != nil {
		return "", downOr("mallory is down, and alice's path to the bank goes through her: nothing passes", err)
	}
	var aliceTLS = certs.Client
	if !w.tls {
		aliceTLS = nil
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	rc, err := dialVia(cctx, "mallory", guard{secret: w.g.secret}, tr, "alice", liveDialer(nw, aliceTLS))
	if err == nil {
		var balance int
		err = rc.Call(cctx, "Bank.Transfer", &TransferArgs{From: "alice", To: "bob", Amount: 10, PIN: pins["alice"]}, &balance)
		rc.Close()
	}
	cancel()
	m.close()
	read := "no"
	if bytes.Contains(m.recorded(), []byte(pins["alice"])) {
		read = "YES"
	}
	bob, _ := bank.state()
	return fmt.Sprintf("alice's transfer %s; mallory read the PIN: %s; bob received %d.", outcomeOf(err), read, bob-100), nil
}

// downOr says why a node could not listen: down, if the page crashed it,
// or err.
func downOr(down string, err error) error {
	if errors.Is(err, netsim.ErrCrashed) {
		return errors.New(down)
	}
	return err
}
