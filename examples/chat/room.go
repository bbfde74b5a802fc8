package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/distsys-kit/distsys/transport"
)

// room is a chat server: every message a member sends goes to every other
// member. Each member has a bounded queue; when it is full (the member
// reads too slowly) the room drops messages for that member instead of
// waiting, so one slow reader cannot stall everyone else.
type room struct {
	queueLen int
	logMu    sync.Mutex // serializes writes to log
	log      io.Writer
	queued   func() // if set, called after each message is queued for everyone
	// discarded, if set, is told of each message dropped for a member
	// (by its name), so that the trace draws the room's own losses.
	discarded func(to string, msg []byte)

	mu      sync.Mutex // protects members
	members map[*member]bool
	wg      sync.WaitGroup
}

type member struct {
	name    string
	conn    transport.Conn
	out     chan []byte   // bounded queue of messages to send to this member
	gone    chan struct{} // closed when the member leaves
	mu      sync.Mutex    // protects dropped, lagging
	dropped int
	lagging bool
}

func newRoom(queueLen int, log io.Writer) *room {
	return &room{queueLen: queueLen, log: log, members: map[*member]bool{}}
}

// join serves one member until it leaves or ctx ends. Its first message is
// its name.
func (r *room) join(ctx context.Context, c transport.Conn) {
	r.wg.Add(1)
	go func() { // exits when the member leaves or ctx ends
		defer r.wg.Done()
		defer c.Close()
		name, err := c.Recv(ctx)
		if err != nil {
			return
		}
		m := &member{name: string(name), conn: c, out: make(chan []byte, r.queueLen), gone: make(chan struct{})}
		for _, old := range r.add(m) {
			old.conn.Close() // its goroutine sees the conn closed, and leaves
		}

		r.wg.Add(1)
		go r.writeTo(ctx, m) // exits when m.gone is closed or the room closes
		m.out <- []byte("* welcome, " + m.name)
		for {
			msg, err := c.Recv(ctx)
			if err != nil {
				break
			}
			r.broadcast(m, fmt.Sprintf("%s: %s", m.name, msg))
			if r.queued != nil {
				r.queued()
			}
		}
		r.mu.Lock()
		delete(r.members, m)
		r.mu.Unlock()
		close(m.gone)
	}()
}

// add puts m in the room, and takes out and returns the members of the
// same name: a member that joins again, after a crash (see live.go), has
// a dead connection in the room that nobody would otherwise notice, and
// messages queued for it would count as dropped for the member.
func (r *room) add(m *member) (replaced []*member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for old := range r.members {
		if old.name == m.name {
			delete(r.members, old)
			replaced = append(replaced, old)
		}
	}
	r.members[m] = true
	return replaced
}

// writeTo sends m's queue to m, as fast as m reads.
func (r *room) writeTo(ctx context.Context, m *member) {
	defer r.wg.Done()
	for {
		select {
		case msg := <-m.out:
			if msg == nil { // the room is closing: flush and hang up
				m.conn.Close()
				return
			}
			if err := m.conn.Send(ctx, msg); err != nil {
				return
			}
		case <-m.gone:
			return
		}
	}
}

// broadcast queues text for every member but the sender, dropping it for
// members whose queue is full.
func (r *room) broadcast(from *member, text string) {
	r.mu.Lock()
	var to []*member
	for m := range r.members {
		if m != from {
			to = append(to, m)
		}
	}
	r.mu.Unlock()
	for _, m := range to {
		select {
		case m.out <- []byte(text):
			m.setLagging(false)
		default:
			if r.discarded != nil {
				r.discarded(m.name, []byte(text))
			}
			if m.addDrop() {
				r.logMu.Lock()
				fmt.Fprintf(r.log, "server: %s's queue of %d is full: dropping messages for %s, the room goes on\n", m.name, r.queueLen, m.name)
				r.logMu.Unlock()
			}
		}
	}
}

// addDrop counts a dropped message and reports whether m just started
// lagging (so the log says it once per episode, not once per message).
func (m *member) addDrop() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropped++
	started := !m.lagging
	m.lagging = true
	return started
}

func (m *member) setLagging(v bool) {
	m.mu.Lock()
	m.lagging = v
	m.mu.Unlock()
}

// close tells every member how many messages it missed, hangs up on it
// once its queue is sent, and waits for the members' goroutines. It returns
// the number of messages dropped for each member.
func (r *room) close(ctx context.Context) map[string]int {
	r.mu.Lock()
	var all []*member
	for m := range r.members {
		all = append(all, m)
	}
	r.mu.Unlock()
	dropped := map[string]int{}
	for _, m := range all {
		m.mu.Lock()
		dropped[m.name] = m.dropped
		m.mu.Unlock()
		for _, msg := range [][]byte{[]byte(fmt.Sprintf("* the room is closing; you missed %d messages", dropped[m.name])), nil} {
			select { // wait for room in the queue: this one must not be dropped
			case m.out <- msg:
			case <-m.gone:
			case <-ctx.Done():
			}
		}
	}
	r.wg.Wait()
	return dropped
}
