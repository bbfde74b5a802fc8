package lock

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// The lock server's decisions live in table: a plain data structure with no
// goroutines, no clock and no I/O of its own. Every method is given the
// time, and the one side effect, making the token high-water mark durable,
// goes through the save function it was built with. Server wraps a table
// with a mutex, a timer and the network; the tests drive one step by step.
//
// The vocabulary:
//
//   - A session is a client's lease on the server. It lives as long as the
//     client renews it (keepAlive) within the TTL. Every lock is held by a
//     session, so one renewal keeps all of a client's locks.
//   - An acquisition is one Lock or TryLock call, named by its session and
//     a sequence number the client picks (increasing). It waits in its
//     lock's FIFO queue, then holds the lock with a fencing token, then
//     ends: released, cancelled, or lost with its session. An acquisition
//     that has ended never comes back, so a late duplicate of its request
//     is refused (errStale) instead of taking the lock again.

// sessionRef names a session on the wire. Epoch is the server run that
// opened it: after a restart, every older session is unknown, hence expired.
type sessionRef struct {
	Epoch uint64
	ID    uint64
}

// acqKey names an acquisition within a server run.
type acqKey struct{ session, seq uint64 }

// tableConfig is what a table needs beyond its durable state.
type tableConfig struct {
	TTL        time.Duration            // session lease
	LockDelay  time.Duration            // no grant for this long after a holder's session expired
	TokenBlock uint64                   // tokens reserved per write of the state file
	Save       func(durableState) error // makes a state durable (write-then-rename)
}

type table struct {
	cfg         tableConfig
	epoch       uint64
	prevHorizon time.Duration // the horizon the previous run recorded
	graceUntil  time.Time     // no grants before this: leases of the previous run may be live
	nextToken   uint64
	tokenLimit  uint64 // durable: every token issued is below it
	err         error  // sticky: the state could not be saved, so nothing more is granted

	nextID   uint64
	sessions map[uint64]*session
	locks    map[string]*lockState

	// nextDue is no later than the earliest session expiry, lock-delay end
	// or grace end still to come (zero: none). It may be earlier, since a
	// renewal does not move it; tick then finds nothing to do and
	// recomputes it.
	nextDue time.Time
}

type session struct {
	ref     sessionRef
	name    string // the client's name, for LockInfo
	expires time.Time
	open    map[uint64]*acq     // acquisitions waiting or holding, by seq
	ended   map[uint64]struct{} // acquisitions that have ended, until a renewal makes the record unneeded

	// What the newest renewal said: when it was sent, the client had
	// started every acquisition below floor, and wanted only those in
	// wanted. So one below floor and not wanted has ended.
	renewal uint64
	floor   uint64
	wanted  map[uint64]struct{}
}

// hasEnded reports whether acquisition seq, which is not open, has ended:
// a request for it is a late copy, not a new acquisition.
func (s *session) hasEnded(seq uint64) bool {
	if _, ok := s.ended[seq]; ok {
		return true
	}
	_, wanted := s.wanted[seq]
	return seq < s.floor && !wanted
}

type acq struct {
	sess  *session
	seq   uint64
	lock  *lockState
	token uint64    // the fencing token; 0 while waiting
	since time.Time // when it was granted
}

func (a *acq) key() acqKey { return acqKey{a.sess.ref.ID, a.seq} }

type lockState struct {
	name       string
	holder     *acq
	queue      []*acq    // waiters, first come first served
	delayUntil time.Time // lock-delay: no grant before this
}

// newTable starts a server run after prev, the state the previous run left
// (the zero value for a new directory), and saves the new run's state. now
// is when the run starts.
func newTable(cfg tableConfig, prev durableState, now time.Time) (*table, error) {
	t := &table{
		cfg:         cfg,
		epoch:       prev.Epoch + 1,
		prevHorizon: prev.Horizon,
		graceUntil:  now.Add(prev.Horizon),
		nextToken:   max(prev.TokenLimit, 1),
		sessions:    make(map[uint64]*session),
		locks:       make(map[string]*lockState),
	}
	t.due(now, t.graceUntil)
	// Reserve the first block now, so that a run that grants fewer than
	// TokenBlock locks writes its state once, at startup.
	if err := t.reserve(now, t.nextToken+cfg.TokenBlock); err != nil {
		return nil, err
	}
	return t, nil
}

// horizon is how long after a crash a lease or lock-delay of this run can
// still be running: the longest the next run must wait before granting.
// While this run's own grace lasts, leases of the previous run may outlive
// this run's, so the larger of the two is recorded.
func (t *table) horizon(now time.Time) time.Duration {
	h := t.cfg.TTL + t.cfg.LockDelay
	if now.Before(t.graceUntil) {
		h = max(h, t.prevHorizon)
	}
	return h
}

// reserve makes every token below limit available, by recording limit in
// the state file before any of them is issued.
func (t *table) reserve(now time.Time, limit uint64) error {
	st := durableState{Epoch: t.epoch, TokenLimit: limit, Horizon: t.horizon(now)}
	if err := t.cfg.Save(st); err != nil {
		return fmt.Errorf("lock: save state: %w", err)
	}
	t.tokenLimit = limit
	return nil
}

// issueToken returns the next fencing token. Tokens only grow: each is
// below the durable limit, and a restarted server starts at that limit.
func (t *table) issueToken(now time.Time) (uint64, error) {
	if t.nextToken >= t.tokenLimit {
		if err := t.reserve(now, t.nextToken+t.cfg.TokenBlock); err != nil {
			return 0, err
		}
	}
	tok := t.nextToken
	t.nextToken++
	return tok, nil
}

// due notes that something must happen at time at.
func (t *table) due(now, at time.Time) {
	if at.After(now) && (t.nextDue.IsZero() || at.Before(t.nextDue)) {
		t.nextDue = at
	}
}

// deadline returns when tick next has work to do, or the zero time if
// nothing is pending.
func (t *table) deadline() time.Time { return t.nextDue }

// openSession starts a session for the client called name.
func (t *table) openSession(now time.Time, name string) sessionRef {
	t.nextID++
	s := &session{
		ref:     sessionRef{Epoch: t.epoch, ID: t.nextID},
		name:    name,
		expires: now.Add(t.cfg.TTL),
		open:    make(map[uint64]*acq),
		ended:   make(map[uint64]struct{}),
		wanted:  make(map[uint64]struct{}),
	}
	t.sessions[s.ref.ID] = s
	t.due(now, s.expires)
	return s.ref
}

// session returns the live session ref names, or ErrSessionExpired.
func (t *table) session(ref sessionRef) (*session, error) {
	s := t.sessions[ref.ID]
	if ref.Epoch != t.epoch || s == nil {
		return nil, ErrSessionExpired
	}
	return s, nil
}

// tick does what is due at now: it expires sessions whose lease ran out,
// and grants locks whose lock-delay or grace period has ended. It returns
// the acquisitions it granted or ended. Every other method ticks first, so
// no decision rests on a lease that has run out.
func (t *table) tick(now time.Time) []acqKey {
	if t.nextDue.IsZero() || now.Before(t.nextDue) {
		return nil
	}
	t.nextDue = time.Time{}
	var changed []acqKey
	for _, s := range sortedSessions(t.sessions) {
		if now.Before(s.expires) {
			t.due(now, s.expires)
			continue
		}
		changed = t.endSession(now, s, true, changed)
	}
	// In name order, so that replicas of a replicated table (replica.go)
	// that grant several locks in one tick issue the same tokens.
	for _, l := range sortedLocks(t.locks) {
		changed = t.grantNext(now, l, changed)
		t.due(now, l.delayUntil)
		t.dropIfIdle(now, l)
	}
	t.due(now, t.graceUntil)
	return changed
}

func sortedSessions(m map[uint64]*session) []*session {
	ss := make([]*session, 0, len(m))
	for _, s := range m {
		ss = append(ss, s)
	}
	slices.SortFunc(ss, func(a, b *session) int { return cmp.Compare(a.ref.ID, b.ref.ID) })
	return ss
}

func sortedLocks(m map[string]*lockState) []*lockState {
	ls := make([]*lockState, 0, len(m))
	for _, l := range m {
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b *lockState) int { return cmp.Compare(a.name, b.name) })
	return ls
}
