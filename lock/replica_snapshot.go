package lock

import (
	"fmt"
	"slices"
	"time"
)

// The pieces of the table that only a replicated table needs: moving its
// timeline onto a new leader's clock, and a snapshot of all of it.

// shift moves every time the table holds by d: the timeline of one
// leader's clock becomes that of another's, and every deadline keeps what
// it had left.
func (t *table) shift(d time.Duration) {
	move := func(at *time.Time) {
		if !at.IsZero() {
			*at = at.Add(d)
		}
	}
	move(&t.graceUntil)
	move(&t.nextDue)
	for _, s := range t.sessions {
		move(&s.expires)
		for _, a := range s.open {
			move(&a.since)
		}
	}
	for _, l := range t.locks {
		move(&l.delayUntil)
	}
}

// extendSessions gives every session at least a TTL from now: a new
// leader's grace for the clients that could not renew during the
// election.
func (t *table) extendSessions(now time.Time) {
	for _, s := range t.sessions {
		if exp := now.Add(t.cfg.TTL); exp.After(s.expires) {
			s.expires = exp
		}
		t.due(now, s.expires)
	}
}

// The snapshot is the table and the clock, in plain exported structs for
// gob, in sorted order so that replicas with the same state write the same
// bytes.
type replicaImage struct {
	Epoch, NextToken, TokenLimit, NextID uint64
	GraceUntil, NextDue, Clock           time.Time
	Office                               officeRef
	Sessions                             []sessionImage
	Locks                                []lockImage
}

type sessionImage struct {
	ID             uint64
	Name           string
	Expires        time.Time
	Open           []acqImage
	Ended          []uint64
	Renewal, Floor uint64
	Wanted         []uint64
}

type acqImage struct {
	Seq   uint64
	Lock  string
	Token uint64
	Since time.Time
}

type lockImage struct {
	Name       string
	Holder     acqKeyImage // zero if nobody holds it
	Queue      []acqKeyImage
	DelayUntil time.Time
}

type acqKeyImage struct{ Session, Seq uint64 }

// Snapshot encodes the whole replicated state.
func (st *replicaState) Snapshot() []byte {
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.t
	img := replicaImage{
		Epoch: t.epoch, NextToken: t.nextToken, TokenLimit: t.tokenLimit, NextID: t.nextID,
		GraceUntil: t.graceUntil, NextDue: t.nextDue, Clock: st.clock, Office: st.office,
	}
	for _, s := range sortedSessions(t.sessions) {
		si := sessionImage{ID: s.ref.ID, Name: s.name, Expires: s.expires, Renewal: s.renewal, Floor: s.floor,
			Ended: sortedKeys(s.ended), Wanted: sortedKeys(s.wanted)}
		for _, a := range sortedAcqs(s.open) {
			si.Open = append(si.Open, acqImage{Seq: a.seq, Lock: a.lock.name, Token: a.token, Since: a.since})
		}
		img.Sessions = append(img.Sessions, si)
	}
	for _, l := range sortedLocks(t.locks) {
		li := lockImage{Name: l.name, DelayUntil: l.delayUntil}
		if l.holder != nil {
			li.Holder = acqKeyImage{l.holder.sess.ref.ID, l.holder.seq}
		}
		for _, a := range l.queue {
			li.Queue = append(li.Queue, acqKeyImage{a.sess.ref.ID, a.seq})
		}
		img.Locks = append(img.Locks, li)
	}
	return encodeGob(img)
}

// Restore replaces the state with a Snapshot's. It refuses a snapshot
// whose pieces do not fit together (an acquisition in no lock, a holder
// that is no open acquisition), which only damage could make.
func (st *replicaState) Restore(data []byte) error {
	var img replicaImage
	if err := decodeGob(data, &img); err != nil {
		return fmt.Errorf("lock: bad snapshot: %w", err)
	}
	t := st.newTable()
	t.epoch, t.nextToken, t.tokenLimit, t.nextID = img.Epoch, img.NextToken, img.TokenLimit, img.NextID
	t.graceUntil, t.nextDue = img.GraceUntil, img.NextDue
	locks := make(map[string]*lockState)
	acqs := make(map[acqKeyImage]*acq)
	for _, si := range img.Sessions {
		s := &session{
			ref: sessionRef{Epoch: t.epoch, ID: si.ID}, name: si.Name, expires: si.Expires,
			open: make(map[uint64]*acq), ended: setOf(si.Ended), wanted: setOf(si.Wanted),
			renewal: si.Renewal, floor: si.Floor,
		}
		for _, ai := range si.Open {
			l := locks[ai.Lock]
			if l == nil {
				l = &lockState{name: ai.Lock}
				locks[ai.Lock] = l
			}
			a := &acq{sess: s, seq: ai.Seq, lock: l, token: ai.Token, since: ai.Since}
			s.open[ai.Seq] = a
			acqs[acqKeyImage{si.ID, ai.Seq}] = a
		}
		t.sessions[si.ID] = s
	}
	for _, li := range img.Locks {
		l := locks[li.Name]
		if l == nil {
			l = &lockState{name: li.Name}
		}
		l.delayUntil = li.DelayUntil
		if li.Holder != (acqKeyImage{}) {
			if l.holder = acqs[li.Holder]; l.holder == nil || l.holder.lock != l {
				return fmt.Errorf("lock: bad snapshot: holder %v of %q is not waiting for it", li.Holder, li.Name)
			}
		}
		for _, k := range li.Queue {
			a := acqs[k]
			if a == nil || a.lock != l {
				return fmt.Errorf("lock: bad snapshot: waiter %v of %q is not waiting for it", k, li.Name)
			}
			l.queue = append(l.queue, a)
		}
		t.locks[li.Name] = l
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.t, st.clock, st.office = t, img.Clock, img.Office
	// The acquisitions a waiting server watches may have changed in ways
	// the snapshot does not say: wake them all, to look again.
	for k, ch := range st.watchers {
		close(ch)
		delete(st.watchers, k)
	}
	return nil
}

func sortedKeys(m map[uint64]struct{}) []uint64 {
	ks := make([]uint64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func setOf(ks []uint64) map[uint64]struct{} {
	m := make(map[uint64]struct{}, len(ks))
	for _, k := range ks {
		m[k] = struct{}{}
	}
	return m
}
