package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// system is the simulated network, the two banks and the coordinator:
//
//	          coord (log on disk)
//	Bank.Prepare/Commit/Abort  ▲ Coordinator.Outcome
//	       ▼          ▼        │
//	    bank-a      bank-b ────┘
//	   (alice)      (bob)
type system struct {
	net     *netsim.Network
	tr      *demo.Tracer
	timeout time.Duration
	out     io.Writer
	banks   map[string]*Bank
	dir     string // holds the coordinator's log
	coord   *Coordinator
	stops   []func() // stop the banks' servers, in reverse order
	stopC   []func() // stop the coordinator's server and clients
}

// errors both sides of every rpc declare.
var declared = rpc.WithErrors(errLocked, errNoAccount)

// startSystem starts the banks and the coordinator. The caller must call
// close, even after an error.
func startSystem(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) (*system, error) {
	s := &system{
		net: netsim.NewNetwork(cfg.faults.Seed, tr.NetsimOptions()...), tr: tr, timeout: cfg.timeout, out: out,
		banks: map[string]*Bank{
			"bank-a": newBank(map[string]int{"alice": 100}),
			"bank-b": newBank(map[string]int{"bob": 50}),
		},
	}
	if err := s.net.SetDefaultFaults(cfg.faults); err != nil {
		return s, err
	}
	var err error
	if s.dir, err = os.MkdirTemp("", "twophase-"); err != nil {
		return s, err
	}
	for _, name := range []string{"bank-a", "bank-b"} {
		stop, err := s.serve(name, s.banks[name])
		if err != nil {
			return s, err
		}
		s.stops = append(s.stops, stop)
	}
	return s, s.startCoordinator(ctx)
}

// logPath is where the coordinator's log is.
func (s *system) logPath() string { return filepath.Join(s.dir, "coord.log") }

// startCoordinator starts a coordinator on node coord, with its log.
func (s *system) startCoordinator(ctx context.Context) error {
	log, err := openLog(s.logPath())
	if err != nil {
		return err
	}
	c := &Coordinator{log: log, banks: map[string]*rpc.Client{}, timeout: s.timeout, out: s.out, states: map[string]*txState{}}
	s.coord = c
	s.stopC = append(s.stopC, func() { log.close() })
	for _, b := range []string{"bank-a", "bank-b"} {
		rc, err := s.dial(ctx, "coord", b)
		if err != nil {
			return err
		}
		c.banks[b] = rc
		s.stopC = append(s.stopC, func() { rc.Close() })
	}
	stop, err := s.serve("coord", c)
	if err != nil {
		return err
	}
	s.stopC = append(s.stopC, stop)
	return nil
}

// crashCoordinator crashes node coord: its conns and listener close at
// once and its memory is gone. Its log file stays.
func (s *system) crashCoordinator() {
	s.net.Crash("coord")
	s.tr.Logf("coord", "crash")
	s.stopCoordinator()
}

// stopCoordinator stops what the coordinator's process was running.
func (s *system) stopCoordinator() {
	for _, stop := range slices.Backward(s.stopC) {
		stop()
	}
	s.stopC, s.coord = nil, nil
}

// restartCoordinator brings node coord back with a fresh coordinator,
// which has only its log to go on.
func (s *system) restartCoordinator(ctx context.Context) error {
	s.net.Restart("coord")
	s.tr.Logf("coord", "restart")
	return s.startCoordinator(ctx)
}

// serve starts an rpc server for rcvr on node, and returns what stops it.
func (s *system) serve(node string, rcvr any) (stop func(), err error) {
	l, err := s.net.Listen(node)
	if err != nil {
		return nil, err
	}
	srv := rpc.NewServer(append(s.tr.ServerOptions(node), declared)...)
	if err := srv.Register(rcvr); err != nil {
		l.Close()
		return nil, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }() // exits when srv is closed
	return func() { srv.Close(); <-served }, nil
}

// dial connects an rpc client on node from to the server on node to. It
// resends a request that gets no reply for a while, at most once executed.
func (s *system) dial(ctx context.Context, from, to string) (*rpc.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return rpc.Dial(ctx, to, append(s.tr.ClientOptions(from, to),
		rpc.WithDialer(s.net.Dialer(from)), declared,
		rpc.WithRetry(rpc.RetryPolicy{Interval: s.timeout / 8}))...)
}

// balances says what alice and bob have.
func (s *system) balances() string {
	a, b := s.banks["bank-a"].state(), s.banks["bank-b"].state()
	return fmt.Sprintf("alice has %d, bob has %d", a.balances["alice"], b.balances["bob"])
}

// total is alice's and bob's money together.
func (s *system) total() int {
	return s.banks["bank-a"].state().balances["alice"] + s.banks["bank-b"].state().balances["bob"]
}

// locked returns the accounts that tx holds locked, at either bank.
func (s *system) locked(tx string) []string {
	var accounts []string
	for _, b := range []string{"bank-a", "bank-b"} {
		st := s.banks[b].state()
		for _, acct := range slices.Sorted(maps.Keys(st.locks)) {
			if st.locks[acct] == tx {
				accounts = append(accounts, fmt.Sprintf("%s's lock at %s", acct, b))
			}
		}
	}
	return accounts
}

// ask has bank from ask the coordinator what became of tx, waiting at
// most s.timeout, and returns the answer, or "" for none.
func (s *system) ask(ctx context.Context, from, tx string) string {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	rc, err := s.dial(ctx, from, "coord")
	if err != nil {
		return ""
	}
	defer rc.Close()
	var answer string
	if err := rc.Call(ctx, "Coordinator.Outcome", &tx, &answer); err != nil {
		return ""
	}
	return answer
}

// close stops everything and removes the log.
func (s *system) close() {
	s.stopCoordinator()
	for _, stop := range slices.Backward(s.stops) {
		stop()
	}
	s.net.Close()
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
