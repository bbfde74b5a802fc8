package main

import (
	"context"
	"sync"

	"github.com/distsys-kit/distsys/transport"
)

// liveServer is the room behind a listener on the page's network, on the
// node "server".
type liveServer struct {
	ln     transport.Listener
	room   *room
	cancel context.CancelFunc // ends the room's goroutines
	wg     sync.WaitGroup     // the accept loop
}

// startServer starts a new, empty room on the node "server": the room of
// the run over TCP, with the same bounded queues, behind a netsim
// listener.
func (lc *liveChat) startServer(ctx context.Context) error {
	ln, err := lc.nw.Listen("server")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &liveServer{ln: lc.tr.WrapListener("server", ln), room: newRoom(lc.queue, lc.out), cancel: cancel}
	s.room.discarded = func(to string, msg []byte) {
		lc.tr.Discard("server", to, "chat", msg, "queue full")
		lc.mu.Lock()
		lc.dropped[to]++
		lc.mu.Unlock()
	}
	s.wg.Go(func() { // exits when ln is closed, by stopServer or a crash
		for {
			c, err := s.ln.Accept(ctx)
			if err != nil {
				return
			}
			s.room.join(ctx, c)
		}
	})
	lc.srv = s
	return nil
}

// stopServer stops the room, if it runs, and waits for its goroutines:
// the members' connections to it are closed.
func (lc *liveChat) stopServer() {
	s := lc.srv
	if s == nil {
		return
	}
	s.ln.Close()
	s.cancel()
	s.wg.Wait()
	s.room.wg.Wait()
	lc.srv = nil
}
