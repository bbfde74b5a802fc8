package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/transport/netsim"
)

// Every browser gets a stream of server-sent events (GET /events):
//
//	netsim ──observe──▶ encode once ──▶ broadcast ──┬─▶ subscriber.ch (bounded) ──▶ serveEvents ──▶ browser
//	                                                └─▶ full? count it as lost, drop it
//
// The network's observer must never wait, whatever the browsers do, so
// each subscriber has a bounded channel and broadcast never blocks: what a
// slow or stuck browser cannot take is counted, dropped, and reported to it
// ("lost" event) when it catches up. A browser that stops reading
// altogether is given up on after writeTimeout.

// subscriber is one browser's event stream.
type subscriber struct {
	// ch holds encoded events not yet written to the browser. Its size is
	// the dashboard's buffer (WithBuffer): the bound on what a browser may
	// fall behind before events are dropped for it.
	ch   chan []byte
	lost atomic.Int64 // events dropped because ch was full
}

// maxReason is the largest netsim.DropReason the dashboard counts.
const maxReason = int(netsim.ReasonQueueFull)

const (
	stateEvery   = 500 * time.Millisecond // how often a browser gets a fresh snapshot
	writeTimeout = 2 * time.Second        // how long a write to a browser may take
	batchMax     = 512                    // events written to a browser in one go
)

// observe is the network's observer: it turns each event into what the
// page draws and hands it to every browser, without waiting.
func (d *Dashboard) observe(e netsim.Event) {
	if e.Kind == netsim.EventLimits || e.Kind == netsim.EventDuplicate {
		return // not drawn: a duplicate shows as a second delivery
	}
	at := d.since(e.Time)
	ev := event{Kind: e.Kind.String(), At: at, From: e.From, To: e.To, Node: e.Node, Groups: e.Groups}
	if e.Kind.Message() {
		ev.ID = copyID(e)
		ev.Size = len(e.Msg)
		ev.Label = d.opts.label(e.Msg)
		if e.Kind == netsim.EventDrop {
			ev.Reason = e.Reason.String()
			if e.Reason >= 0 && int(e.Reason) <= maxReason {
				d.dropped[e.Reason].Add(1)
			}
		}
		d.broadcast(d.encode("net", ev), keepRecent)
		return
	}
	if e.Kind == netsim.EventFaults {
		f := faultsOf(e.Faults)
		ev.Faults = &f
	}
	d.record(e)
	d.broadcast(d.encode("net", ev), keepHistory)
}

// encode writes one server-sent event: its name and its data as JSON.
func (d *Dashboard) encode(name string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil { // only plain values are encoded: this is a bug
		panic(fmt.Sprintf("dashboard: encode %s: %v", name, err))
	}
	return fmt.Appendf(nil, "event: %s\ndata: %s\n\n", name, data)
}

// What broadcast keeps of a message, for browsers that join later.
type keep int

const (
	keepNone    keep = iota // a snapshot: the next one will do
	keepRecent              // a message event: among the last recentLen
	keepHistory             // a change of the network or narration: among the last historyLen
)

// broadcast hands msg to every browser, and keeps it for browsers that
// join later as k says.
func (d *Dashboard) broadcast(msg []byte, k keep) {
	subs := *d.subs.Load()
	if k != keepNone {
		// Under mu, so that a browser joining now gets msg either among
		// what it is sent first or on its channel, never both, never
		// neither.
		d.mu.Lock()
		switch k {
		case keepRecent:
			d.recent = trimmed(append(d.recent, msg), recentLen)
		case keepHistory:
			d.history = trimmed(append(d.history, msg), historyLen)
		}
		subs = *d.subs.Load()
		d.mu.Unlock()
	}
	for _, s := range subs {
		select {
		case s.ch <- msg:
		default:
			s.lost.Add(1)
		}
	}
}

// trimmed returns the last n of list once it holds twice that many, so
// that it is copied now and then rather than at every append.
func trimmed(list [][]byte, n int) [][]byte {
	if len(list) < 2*n {
		return list
	}
	return slices.Clone(list[len(list)-n:])
}

// subscribe adds a browser and returns what it must be sent first: the
// last messages and the history. It fails once the dashboard is closed.
func (d *Dashboard) subscribe() (*subscriber, [][]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, nil, ErrClosed
	}
	s := &subscriber{ch: make(chan []byte, d.opts.buffer)}
	subs := append(slices.Clone(*d.subs.Load()), s)
	d.subs.Store(&subs)
	d.wg.Add(1) // Close waits for the stream; Done in serveEvents
	recent := d.recent[max(0, len(d.recent)-recentLen):]
	history := d.history[max(0, len(d.history)-historyLen):]
	return s, slices.Concat(recent, history), nil
}

func (d *Dashboard) unsubscribe(s *subscriber) {
	d.mu.Lock()
	defer d.mu.Unlock()
	subs := slices.DeleteFunc(slices.Clone(*d.subs.Load()), func(x *subscriber) bool { return x == s })
	d.subs.Store(&subs)
}

// serveEvents streams events to one browser until it goes away or the
// dashboard closes. It runs on the http server's goroutine for the request.
func (d *Dashboard) serveEvents(w http.ResponseWriter, r *http.Request) {
	sub, history, err := d.subscribe()
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer d.wg.Done()
	defer d.unsubscribe(sub)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	var buf []byte
	send := func() bool {
		rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err := w.Write(buf)
		buf = buf[:0]
		return err == nil && rc.Flush() == nil
	}
	buf = append(buf, d.encode("state", d.state())...)
	for _, m := range history {
		buf = append(buf, m...)
	}
	if !send() {
		return
	}
	tick := time.NewTicker(stateEvery)
	defer tick.Stop()
	for {
		select {
		case m := <-sub.ch:
			buf = append(buf, m...)
			for more := true; more && len(buf) < batchMax*256; {
				select {
				case m := <-sub.ch:
					buf = append(buf, m...)
				default:
					more = false
				}
			}
			if n := sub.lost.Swap(0); n > 0 {
				buf = append(buf, d.encode("lost", map[string]int64{"count": n})...)
			}
		case <-tick.C:
			buf = append(buf, d.encode("state", d.state())...)
		case <-r.Context().Done():
			return
		case <-d.done:
			return
		}
		if !send() {
			return
		}
	}
}

// describe says in words what a change of the network was, for narration
// and for the exported test's comments.
func describe(e netsim.Event) string {
	switch e.Kind {
	case netsim.EventCrash, netsim.EventRestart, netsim.EventDisconnect, netsim.EventReconnect:
		return e.Kind.String() + " " + e.Node
	case netsim.EventPartition:
		var parts []string
		for _, g := range e.Groups {
			parts = append(parts, "{"+strings.Join(g, " ")+"}")
		}
		return "partition " + strings.Join(parts, " | ")
	case netsim.EventCutLink, netsim.EventHealLink:
		return e.Kind.String() + " " + e.From + " → " + e.To
	case netsim.EventFaults:
		where := "every link"
		if e.From != "" {
			where = e.From + " → " + e.To
		}
		return "faults on " + where + ": " + e.Faults.String()
	case netsim.EventHeal:
		return "heal every partition and cut link"
	}
	return e.Kind.String()
}
