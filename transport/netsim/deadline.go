package netsim

import (
	"sync"
	"time"
)

// deadline is a net.Conn-style deadline as a channel that is closed when
// the deadline passes. Setting a new deadline while a call waits applies to
// that call: the channel it waits on is replaced only once it has been
// closed.
type deadline struct {
	mu      sync.Mutex // protects the fields below; may be taken with n.mu held, never the other way round
	gen     uint64     // counts set calls, so a stale timer does nothing
	timer   *time.Timer
	at      time.Time // the deadline; zero if none
	ch      chan struct{}
	expired bool // ch is closed
}

func newDeadline() *deadline { return &deadline{ch: make(chan struct{})} }

// set moves the deadline to t; a zero t means none.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.expired {
		d.ch = make(chan struct{})
		d.expired = false
	}
	d.at = t
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		close(d.ch)
		d.expired = true
		return
	}
	gen := d.gen
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.gen == gen && !d.expired {
			close(d.ch)
			d.expired = true
		}
	})
}

// wait returns a channel that is closed when the deadline passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

// isExpired reports whether the deadline has passed, even if its timer
// has not fired yet.
func (d *deadline) isExpired() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.expired || (!d.at.IsZero() && !time.Now().Before(d.at))
}

// stop stops the timer; the deadline no longer passes.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	d.at = time.Time{}
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}
