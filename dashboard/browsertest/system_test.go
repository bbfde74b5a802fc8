package browsertest

import (
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// pingEvery is how often each node sends a datagram to each other node.
const pingEvery = 20 * time.Millisecond

// system is a running netsim system under a dashboard: nodes a, b and c
// each send a datagram to each other every pingEvery, as a real system's
// heartbeats would, so that the page always has messages to show.
type system struct {
	net  *netsim.Network
	dash *dashboard.Dashboard
	srv  *httptest.Server

	stop chan struct{}  // closed to stop the nodes
	wg   sync.WaitGroup // the nodes' goroutines

	mu      sync.Mutex // protects waiters
	waiters []*waiter
}

// waiter is a test waiting for an event of the network.
type waiter struct {
	match func(netsim.Event) bool
	seen  chan struct{} // closed when an event matched
}

var nodes = []string{"a", "b", "c"}

func newSystem(t *testing.T) *system {
	t.Helper()
	s := &system{stop: make(chan struct{})}
	s.net = netsim.NewNetwork(1, netsim.WithObserver(s.observe))
	s.net.LogSeedOnFailure(t)
	for _, name := range nodes {
		pc, err := s.net.ListenPacket(name)
		if err != nil {
			t.Fatal(err)
		}
		s.wg.Add(2)
		go s.read(pc)       // exits when pc closes
		go s.ping(name, pc) // exits when s.stop closes or pc closes
	}
	s.dash = dashboard.New(s.net, dashboard.WithNodes(nodes...), dashboard.WithTitle("browser test"))
	s.srv = httptest.NewServer(s.dash)
	t.Cleanup(func() {
		close(s.stop)
		s.dash.Close() // ends the page's event stream first
		s.srv.Close()
		s.net.Close() // closes the packet conns: the readers end
		s.wg.Wait()
	})
	return s
}

func (s *system) read(pc net.PacketConn) {
	defer s.wg.Done()
	buf := make([]byte, 64)
	for {
		if _, _, err := pc.ReadFrom(buf); err != nil {
			return
		}
	}
}

func (s *system) ping(from string, pc net.PacketConn) {
	defer s.wg.Done()
	tick := time.NewTicker(pingEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-s.stop:
			return
		}
		for _, to := range nodes {
			if to == from {
				continue
			}
			if _, err := pc.WriteTo([]byte("ping from "+from), netsim.Addr(to)); err != nil {
				return // crashed, or the network closed
			}
		}
	}
}

// observe is the network's observer: it wakes the tests waiting for the
// event.
func (s *system) observe(e netsim.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		if w.match(e) {
			close(w.seen)
			continue
		}
		kept = append(kept, w)
	}
	s.waiters = kept
}

// expect starts waiting for an event that matches; call it before the
// action that causes the event, and wait after.
func (s *system) expect(match func(netsim.Event) bool) *waiter {
	w := &waiter{match: match, seen: make(chan struct{})}
	s.mu.Lock()
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	return w
}

// wait waits for w's event, within patience.
func (w *waiter) wait(t *testing.T, what string) {
	t.Helper()
	timer := time.NewTimer(patience)
	defer timer.Stop()
	select {
	case <-w.seen:
	case <-timer.C:
		t.Fatalf("gave up waiting for %s", what)
	}
}

// linkEvent matches events of kind on the link from -> to.
func linkEvent(kind netsim.EventKind, from, to string) func(netsim.Event) bool {
	return func(e netsim.Event) bool { return e.Kind == kind && e.From == from && e.To == to }
}

// dropped matches a drop on from -> to for the given reason.
func dropped(from, to string, reason netsim.DropReason) func(netsim.Event) bool {
	return func(e netsim.Event) bool {
		return e.Kind == netsim.EventDrop && e.From == from && e.To == to && e.Reason == reason
	}
}

// changed matches a change of the network of kind.
func changed(kind netsim.EventKind) func(netsim.Event) bool {
	return func(e netsim.Event) bool { return e.Kind == kind }
}
