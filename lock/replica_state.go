package lock

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/rsm"
)

// replicaState is the lock table as a replicated state machine
// (rsm.StateMachine): every replica applies the same commands in the same
// order, and so holds the same table. The table is deterministic, since
// its only inputs are its methods' arguments; what the single server reads
// from its own clock, a replica reads from the command: the leader stamps
// every command it proposes with its clock.
//
// Time. The table's time (clock) is the stamp of the newest command, kept
// monotonic by taking the larger of the two. Only the leader in office may
// move it: a command stamped by another replica (an old leader's, still in
// the log) is applied at the current time. A leader takes office with a
// command of its own (cmdTakeOffice), which moves the whole timeline onto
// its clock: every deadline keeps the time it had left, and every session
// gets at least a full TTL from now (Chubby's rule: its clients could not
// renew during the election, and must not lose their locks for that).
// Clocks of different replicas may then disagree by any amount without
// shortening or lengthening a lease by more than a TTL.
//
// Tokens. The next fencing token is part of the replicated state, so it
// follows the log: a token is issued by applying a committed entry, every
// replica issues the same one for it, and a new leader continues from the
// state its predecessor's committed entries built. A token a client sees
// was issued by a committed entry (a server answers only after applying
// it), so no failover can issue it again, and tokens only grow.
type replicaState struct {
	mu       sync.Mutex // protects the fields below; rsm calls Apply from its loop, the server reads
	t        *table
	clock    time.Time // the table's time: the newest stamp of the leader in office
	office   officeRef // the leader in office: whose stamps move the clock
	watchers map[acqKey]chan struct{}
	tableCfg tableConfig
	offices  int // how many times a leader took office, for tests
}

// officeRef names a leader in one term.
type officeRef struct{ ID, Term uint64 }

var _ rsm.StateMachine = (*replicaState)(nil)

// tokenSpace is the token block of a replicated table: its limit is never
// reached, since nothing needs saving (the log is the durable record).
const tokenSpace = 1 << 62

func newReplicaState(ttl, lockDelay time.Duration) *replicaState {
	st := &replicaState{
		tableCfg: tableConfig{TTL: ttl, LockDelay: lockDelay, TokenBlock: tokenSpace, Save: func(durableState) error { return nil }},
		watchers: make(map[acqKey]chan struct{}),
	}
	st.t = st.newTable()
	return st
}

func (st *replicaState) newTable() *table {
	t, _ := newTable(st.tableCfg, durableState{}, time.Time{}) // Save never fails
	return t
}

// cmdKind is what a command asks of the table.
type cmdKind uint8

const (
	cmdOpen cmdKind = iota + 1
	cmdKeepAlive
	cmdAcquire
	cmdRelease
	cmdClose
	cmdTick       // expire what is due
	cmdTakeOffice // a new leader moves the timeline onto its clock
)

// command is one log entry of the replicated lock service. From, Term and
// Stamp say which leader proposed it, in which term, and when by its
// clock; the other fields are those of the request.
type command struct {
	Kind    cmdKind
	From    uint64
	Term    uint64
	Stamp   int64 // Unix nanoseconds
	Client  string
	Session sessionRef
	Name    string
	Seq     uint64
	Wait    bool
	Renewal uint64
	Floor   uint64
	Wanted  []uint64
}

// result is what applying a command returns to the server that proposed
// it.
type result struct {
	Status  status
	Token   uint64
	Session sessionRef
	Err     string // an error that is not a status: the request was bad
}

func encodeGob(v any) []byte {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		panic(fmt.Sprintf("lock: encode %T: %v", v, err)) // a bug: the types are fixed
	}
	return b.Bytes()
}

func decodeGob(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// Apply applies one command. A command that does not decode (no server
// proposes one) changes nothing and returns an error result.
func (st *replicaState) Apply(data []byte) []byte {
	c, err := decodeCommand(data)
	if err != nil {
		return result{Err: err.Error()}.encode()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.advance(c)
	var (
		res     result
		changed []acqKey
	)
	switch c.Kind {
	case cmdOpen:
		changed = st.t.tick(now)
		res.Session = st.t.openSession(now, c.Client)
	case cmdKeepAlive:
		changed, err = st.t.keepAlive(now, c.Session, c.Renewal, c.Floor, c.Wanted)
	case cmdAcquire:
		var queued bool
		res.Token, queued, changed, err = st.t.acquire(now, c.Session, c.Name, c.Seq, c.Wait)
		if err == nil && queued {
			res.Status = statusQueued
		}
	case cmdRelease:
		changed, err = st.t.release(now, c.Session, c.Seq)
	case cmdClose:
		changed = st.t.closeSession(now, c.Session)
	case cmdTick, cmdTakeOffice:
		changed = st.t.tick(now)
	default:
		err = fmt.Errorf("lock: unknown command kind %d", c.Kind)
	}
	if err != nil {
		s, other := statusOf(err)
		res.Status = s
		if other != nil {
			res.Err = other.Error()
		}
	}
	st.wake(changed)
	return res.encode()
}

// advance moves the table's clock for command c and returns the time to
// apply it at. A leader taking office moves the timeline onto its clock.
func (st *replicaState) advance(c command) time.Time {
	stamp := time.Unix(0, c.Stamp)
	switch {
	case c.Kind == cmdTakeOffice:
		if !st.clock.IsZero() {
			st.t.shift(stamp.Sub(st.clock))
		}
		st.clock = stamp
		st.office = officeRef{c.From, c.Term}
		st.t.extendSessions(stamp)
		st.offices++
	case (officeRef{c.From, c.Term}) == st.office && stamp.After(st.clock):
		st.clock = stamp
	}
	return st.clock
}

// wake closes the watchers of the acquisitions a command changed. The
// caller holds st.mu.
func (st *replicaState) wake(changed []acqKey) {
	for _, k := range changed {
		if ch := st.watchers[k]; ch != nil {
			close(ch)
			delete(st.watchers, k)
		}
	}
}

// watch returns the state of acquisition seq of session ref, as the table
// holds it now, and if it is waiting, a channel closed when a command
// changes it.
func (st *replicaState) watch(ref sessionRef, seq uint64) (res result, woken <-chan struct{}) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, err := st.t.session(ref)
	if err != nil {
		return result{Status: statusSessionExpired}, nil
	}
	a := s.open[seq]
	switch {
	case a == nil:
		return result{Status: statusStale}, nil
	case a.token != 0:
		return result{Token: a.token}, nil
	}
	k := acqKey{ref.ID, seq}
	ch := st.watchers[k]
	if ch == nil {
		ch = make(chan struct{})
		st.watchers[k] = ch
	}
	return result{Status: statusQueued}, ch
}

// due reports when the table next has work to do (the zero time if
// nothing is pending), and whether leader, in term, is in office: only
// then is the deadline on its clock.
func (st *replicaState) due(leader officeRef) (time.Time, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.t.deadline(), st.office == leader
}

// view describes the locks.
func (st *replicaState) view(now time.Time) []LockInfo {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.t.view(now)
}

// Query is not used: every request of the lock service changes the
// table, so each goes through the log.
func (st *replicaState) Query([]byte) []byte { return nil }
