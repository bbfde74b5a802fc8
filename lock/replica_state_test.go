package lock

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The replicated table is tested command by command, as the log would
// feed it: no raft, no goroutines.

// replay applies commands to st and returns the decoded results.
func replay(tb testing.TB, st *replicaState, cmds ...command) []result {
	tb.Helper()
	var out []result
	for _, c := range cmds {
		r, err := decodeResult(st.Apply(c.encode()))
		require.NoError(tb, err)
		out = append(out, r)
	}
	return out
}

// at returns c stamped by leader id in term, at d after t0.
func at(c command, id, term uint64, d time.Duration) command {
	c.From, c.Term, c.Stamp = id, term, t0.Add(d).UnixNano()
	return c
}

var ref1, ref2 = sessionRef{Epoch: 1, ID: 1}, sessionRef{Epoch: 1, ID: 2}

// history is a log of a few leaders' commands: two sessions, contention,
// an expiry, a failover.
func history() []command {
	return []command{
		at(command{Kind: cmdTakeOffice}, 1, 1, 0),
		at(command{Kind: cmdOpen, Client: "a"}, 1, 1, time.Second),
		at(command{Kind: cmdOpen, Client: "b"}, 1, 1, time.Second),
		at(command{Kind: cmdAcquire, Session: ref1, Name: "x", Seq: 1, Wait: true}, 1, 1, 2*time.Second),
		at(command{Kind: cmdAcquire, Session: ref2, Name: "x", Seq: 1, Wait: true}, 1, 1, 2*time.Second),
		at(command{Kind: cmdAcquire, Session: ref2, Name: "y", Seq: 2, Wait: true}, 1, 1, 2*time.Second),
		at(command{Kind: cmdKeepAlive, Session: ref2, Renewal: 1, Floor: 3, Wanted: []uint64{1, 2}}, 1, 1, 5*time.Second),
		at(command{Kind: cmdTakeOffice}, 2, 2, -time.Hour), // a new leader whose clock is an hour behind
		at(command{Kind: cmdKeepAlive, Session: ref2, Renewal: 2, Floor: 3, Wanted: []uint64{1, 2}}, 2, 2, -time.Hour+8*time.Second),
		at(command{Kind: cmdTick}, 2, 2, -time.Hour+11*time.Second), // a has not renewed since the takeover
	}
}

func TestReplicasApplyingTheSameLogHoldTheSameTable(t *testing.T) {
	a, b := newReplicaState(testTTL, testLockDelay), newReplicaState(testTTL, testLockDelay)
	ra, rb := replay(t, a, history()...), replay(t, b, history()...)
	assert.Equal(t, ra, rb)
	assert.Equal(t, a.Snapshot(), b.Snapshot(), "same log, same bytes")

	c := newReplicaState(testTTL, testLockDelay) // a replica sent a's snapshot
	require.NoError(t, c.Restore(a.Snapshot()))
	assert.Equal(t, a.Snapshot(), c.Snapshot())
	next := at(command{Kind: cmdTick}, 2, 2, -time.Hour+11*time.Second+testLockDelay)
	assert.Equal(t, replay(t, a, next), replay(t, c, next), "and the same future")
	assert.Equal(t, a.view(t0), c.view(t0))
}

func TestTokensFollowTheLogAcrossFailover(t *testing.T) {
	st := newReplicaState(testTTL, testLockDelay)
	res := replay(t, st, history()...)
	assert.Equal(t, uint64(1), res[3].Token, "a holds x")
	assert.Equal(t, statusQueued, res[4].Status, "b waits for x")
	assert.Equal(t, uint64(2), res[5].Token, "b holds y")

	res = replay(t, st, at(command{Kind: cmdTick}, 2, 2, -time.Hour+11*time.Second+testLockDelay))
	got, _ := st.watch(ref2, 1)
	assert.Equal(t, uint64(3), got.Token, "after a expired and the lock-delay, b holds x with the next token")
}

func TestNewLeaderGivesEverySessionAFullTTL(t *testing.T) {
	st := newReplicaState(testTTL, testLockDelay)
	replay(t, st,
		at(command{Kind: cmdTakeOffice}, 1, 1, 0),
		at(command{Kind: cmdOpen, Client: "a"}, 1, 1, 0),
		at(command{Kind: cmdAcquire, Session: ref1, Name: "x", Seq: 1, Wait: true}, 1, 1, 0),
		at(command{Kind: cmdTick}, 1, 1, 9*time.Second), // a's session has 1s left
		// leader 1 dies at 9s; the election takes a while; leader 2's
		// clock is 5 minutes ahead of leader 1's.
		at(command{Kind: cmdTakeOffice}, 2, 2, 5*time.Minute+12*time.Second),
		at(command{Kind: cmdTick}, 2, 2, 5*time.Minute+21*time.Second),
	)
	got, _ := st.watch(ref1, 1)
	assert.Equal(t, uint64(1), got.Token, "a's lease outlives the election: a full TTL from the takeover")

	replay(t, st, at(command{Kind: cmdTick}, 2, 2, 5*time.Minute+22*time.Second))
	got, _ = st.watch(ref1, 1)
	assert.Equal(t, statusSessionExpired, got.Status, "a TTL after the takeover, a silent holder is gone")
}

func TestOnlyTheLeaderInOfficeMovesTheClock(t *testing.T) {
	st := newReplicaState(testTTL, testLockDelay)
	replay(t, st,
		at(command{Kind: cmdTakeOffice}, 1, 1, 0),
		at(command{Kind: cmdOpen, Client: "a"}, 1, 1, 0),
		at(command{Kind: cmdTakeOffice}, 2, 2, 0),
		// A late command of the deposed leader, whose clock is an hour
		// ahead, commits after the takeover: it must not expire anyone.
		at(command{Kind: cmdTick}, 1, 1, time.Hour),
		at(command{Kind: cmdTick}, 1, 2, time.Hour), // nor a term it never led
	)
	got, _ := st.watch(ref1, 1)
	assert.Equal(t, statusStale, got.Status, "session a lives (it has no acquisition 1)")
	assert.True(t, t0.Equal(st.clock), "the clock is still %v, want %v", st.clock, t0)
}

func TestDamagedCommandsAndSnapshotsAreRefused(t *testing.T) {
	st := newReplicaState(testTTL, testLockDelay)
	r, err := decodeResult(st.Apply([]byte("garbage")))
	require.NoError(t, err)
	assert.Contains(t, r.Err, "bad command")
	require.Error(t, st.Restore([]byte("garbage")))

	img := replicaImage{Epoch: 1, Locks: []lockImage{{Name: "x", Holder: acqKeyImage{1, 1}}}}
	require.ErrorContains(t, st.Restore(encodeGob(img)), "holder")
}

func FuzzDecodeCommand(f *testing.F) {
	for _, c := range history() {
		f.Add(c.encode())
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCommand(b)
		if err != nil {
			return
		}
		again, err := decodeCommand(c.encode())
		require.NoError(t, err)
		assert.Equal(t, c, again)
		newReplicaState(testTTL, testLockDelay).Apply(b) // whatever it says, it must not panic
	})
}

func FuzzRestore(f *testing.F) {
	st := newReplicaState(testTTL, testLockDelay)
	replay(f, st, history()...)
	f.Add(st.Snapshot())
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = newReplicaState(testTTL, testLockDelay).Restore(b) // an error or a table, never a panic
	})
}
