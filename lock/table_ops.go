package lock

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// acquire handles Lock (wait) and TryLock (!wait) for acquisition seq of
// session ref on lock name. It returns the token if the acquisition holds
// the lock, queued if it waits, and the acquisitions it changed (ticking
// may grant or end others). It is idempotent: a repeated request for an
// open acquisition reports its state and changes nothing, and a request
// for one that has ended gets errStale.
func (t *table) acquire(now time.Time, ref sessionRef, name string, seq uint64, wait bool) (token uint64, queued bool, changed []acqKey, err error) {
	changed = t.tick(now)
	if t.err != nil {
		return 0, false, changed, t.err
	}
	s, err := t.session(ref)
	if err != nil {
		return 0, false, changed, err
	}
	if a := s.open[seq]; a != nil {
		if a.lock.name != name {
			return 0, false, changed, fmt.Errorf("lock: acquisition %d is for %q, not %q", seq, a.lock.name, name)
		}
		return a.token, a.token == 0, changed, nil
	}
	if s.hasEnded(seq) {
		return 0, false, changed, errStale
	}
	l := t.locks[name]
	if l == nil {
		l = &lockState{name: name}
		t.locks[name] = l
	}
	free := l.holder == nil && len(l.queue) == 0 && t.grantable(now, l)
	if !free && !wait {
		s.ended[seq] = struct{}{} // a late copy of this TryLock must not succeed
		t.dropIfIdle(now, l)
		return 0, false, changed, ErrLocked
	}
	a := &acq{sess: s, seq: seq, lock: l}
	s.open[seq] = a
	l.queue = append(l.queue, a)
	if free {
		changed = t.grantNext(now, l, changed)
		if t.err != nil {
			return 0, false, changed, t.err
		}
		return a.token, false, changed, nil
	}
	t.due(now, l.delayUntil)
	return 0, true, changed, nil
}

// release ends acquisition seq of session ref: it leaves the queue, or
// gives up the lock to the next waiter (no lock-delay: the holder chose to
// let go). Releasing an acquisition that is not open changes nothing, so a
// late or repeated release never touches a newer acquisition, which has
// another seq; it also marks seq as ended, so that a release overtaking its
// own acquire wins.
func (t *table) release(now time.Time, ref sessionRef, seq uint64) ([]acqKey, error) {
	changed := t.tick(now)
	s, err := t.session(ref)
	if err != nil {
		return changed, err
	}
	if a := s.open[seq]; a != nil {
		return t.endAcq(now, a, false, changed), nil
	}
	s.ended[seq] = struct{}{}
	return changed, nil
}

// keepAlive renews session ref for another TTL. Renewals are numbered
// by the client, and one older than the newest seen is ignored. A renewal
// also settles what the client no longer wants: floor says that the client
// had started every acquisition below floor when it sent the renewal, and
// wanted lists those it still waited for or held. So every open
// acquisition below floor and not wanted is ended (its release was lost,
// or its grant came after the client gave up), and the records of ended
// acquisitions that the renewal covers are dropped, which keeps the ended
// set small.
func (t *table) keepAlive(now time.Time, ref sessionRef, renewal, floor uint64, wanted []uint64) ([]acqKey, error) {
	changed := t.tick(now)
	s, err := t.session(ref)
	if err != nil || renewal < s.renewal {
		return changed, err
	}
	s.expires = now.Add(t.cfg.TTL)
	s.renewal, s.floor = renewal, floor
	clear(s.wanted)
	for _, seq := range wanted {
		s.wanted[seq] = struct{}{}
	}
	for seq := range s.ended {
		if _, w := s.wanted[seq]; seq < floor && !w {
			delete(s.ended, seq)
		}
	}
	for _, a := range sortedAcqs(s.open) {
		if s.hasEnded(a.seq) {
			changed = t.endAcq(now, a, false, changed)
		}
	}
	return changed, nil
}

// closeSession ends session ref and releases its locks at once, without
// lock-delay: the client said goodbye. Closing an unknown session is not an
// error, so a repeated close is harmless.
func (t *table) closeSession(now time.Time, ref sessionRef) []acqKey {
	changed := t.tick(now)
	if s, err := t.session(ref); err == nil {
		changed = t.endSession(now, s, false, changed)
	}
	return changed
}

// endSession ends every acquisition of s and forgets s. expired says that
// its lease ran out, so its locks get the lock-delay.
func (t *table) endSession(now time.Time, s *session, expired bool, changed []acqKey) []acqKey {
	for _, a := range sortedAcqs(s.open) {
		changed = t.endAcq(now, a, expired, changed)
	}
	delete(t.sessions, s.ref.ID)
	return changed
}

// endAcq ends acquisition a. If it held its lock, the next waiter gets the
// lock, after the lock-delay if the holder's lease expired.
func (t *table) endAcq(now time.Time, a *acq, expired bool, changed []acqKey) []acqKey {
	l := a.lock
	if l.holder == a {
		l.holder = nil
		if expired && t.cfg.LockDelay > 0 {
			l.delayUntil = now.Add(t.cfg.LockDelay)
		}
		changed = t.grantNext(now, l, changed)
		t.due(now, l.delayUntil)
	} else if i := slices.Index(l.queue, a); i >= 0 {
		l.queue = slices.Delete(l.queue, i, i+1)
	}
	delete(a.sess.open, a.seq)
	if !a.sess.hasEnded(a.seq) {
		a.sess.ended[a.seq] = struct{}{}
	}
	t.dropIfIdle(now, l)
	return append(changed, a.key())
}

// grantable reports whether l may be granted at now: not within its
// lock-delay, nor within the grace period after a restart.
func (t *table) grantable(now time.Time, l *lockState) bool {
	return t.err == nil && !now.Before(l.delayUntil) && !now.Before(t.graceUntil)
}

// grantNext gives l to the first waiter if l is free and grantable. Only
// that waiter is woken: the others keep their places.
func (t *table) grantNext(now time.Time, l *lockState, changed []acqKey) []acqKey {
	if l.holder != nil || len(l.queue) == 0 || !t.grantable(now, l) {
		return changed
	}
	tok, err := t.issueToken(now)
	if err != nil {
		t.err = err // grant nothing more: a token might repeat
		return changed
	}
	a := l.queue[0]
	l.queue = slices.Delete(l.queue, 0, 1)
	a.token, a.since = tok, now
	l.holder = a
	return append(changed, a.key())
}

// dropIfIdle forgets l if nobody holds it, waits for it, or is kept from it
// by a lock-delay.
func (t *table) dropIfIdle(now time.Time, l *lockState) {
	if l.holder == nil && len(l.queue) == 0 && !now.Before(l.delayUntil) {
		delete(t.locks, l.name)
	}
}

func sortedAcqs(m map[uint64]*acq) []*acq {
	as := make([]*acq, 0, len(m))
	for _, a := range m {
		as = append(as, a)
	}
	slices.SortFunc(as, func(a, b *acq) int { return cmp.Compare(a.seq, b.seq) })
	return as
}

// LockInfo describes one lock on a server, for demos and debugging: who
// holds it, since when, with which token, and who waits for it.
type LockInfo struct {
	Name       string    // the lock's name
	Holder     string    // the holding client's name (see WithName); "" if nobody holds it
	Token      uint64    // the holder's fencing token; 0 if nobody holds it
	Since      time.Time // when the holder was granted the lock, by the server's clock
	Waiters    []string  // the waiting clients' names, first in line first
	DelayUntil time.Time // if after now: the lock-delay of a lost holder
}

// view returns a description of every lock, sorted by name. It changes
// nothing, so it may show a holder whose lease ran out a moment ago, until
// the server's timer runs tick.
func (t *table) view(now time.Time) []LockInfo {
	infos := make([]LockInfo, 0, len(t.locks))
	for _, l := range t.locks {
		info := LockInfo{Name: l.name}
		if l.holder != nil {
			info.Holder, info.Token, info.Since = l.holder.sess.name, l.holder.token, l.holder.since
		}
		for _, a := range l.queue {
			info.Waiters = append(info.Waiters, a.sess.name)
		}
		if now.Before(l.delayUntil) {
			info.DelayUntil = l.delayUntil
		}
		infos = append(infos, info)
	}
	slices.SortFunc(infos, func(a, b LockInfo) int { return cmp.Compare(a.Name, b.Name) })
	return infos
}
