package lock

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The table is tested step by step: no goroutines, no clock, every time
// given explicitly.

const (
	testTTL       = 10 * time.Second
	testLockDelay = 3 * time.Second
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// harness drives a table and records what it saved.
type harness struct {
	tb       testing.TB
	t        *table
	now      time.Time
	saves    []durableState
	failSave error
	renewals uint64
}

func newHarness(tb testing.TB, prev durableState, block uint64) *harness {
	tb.Helper()
	h := &harness{tb: tb, now: t0}
	cfg := tableConfig{TTL: testTTL, LockDelay: testLockDelay, TokenBlock: block, Save: h.save}
	t, err := newTable(cfg, prev, h.now)
	require.NoError(tb, err)
	h.t = t
	return h
}

func (h *harness) save(st durableState) error {
	if h.failSave != nil {
		return h.failSave
	}
	h.saves = append(h.saves, st)
	return nil
}

func (h *harness) advance(d time.Duration) []acqKey {
	h.now = h.now.Add(d)
	return h.t.tick(h.now)
}

func (h *harness) open(name string) sessionRef { return h.t.openSession(h.now, name) }

// lock acquires and requires a grant.
func (h *harness) lock(ref sessionRef, name string, seq uint64) uint64 {
	h.tb.Helper()
	tok, queued, _, err := h.t.acquire(h.now, ref, name, seq, true)
	require.NoError(h.tb, err)
	require.False(h.tb, queued, "acquisition %d of session %d queued, want granted", seq, ref.ID)
	return tok
}

// wait acquires and requires to be queued.
func (h *harness) wait(ref sessionRef, name string, seq uint64) {
	h.tb.Helper()
	_, queued, _, err := h.t.acquire(h.now, ref, name, seq, true)
	require.NoError(h.tb, err)
	require.True(h.tb, queued, "acquisition %d of session %d granted, want queued", seq, ref.ID)
}

func (h *harness) release(ref sessionRef, seq uint64) []acqKey {
	h.tb.Helper()
	changed, err := h.t.release(h.now, ref, seq)
	require.NoError(h.tb, err)
	return changed
}

func (h *harness) renew(ref sessionRef, floor uint64, wanted ...uint64) []acqKey {
	h.tb.Helper()
	h.renewals++
	changed, err := h.t.keepAlive(h.now, ref, h.renewals, floor, wanted)
	require.NoError(h.tb, err)
	return changed
}

// holder returns the holder's session and token of lock name.
func (h *harness) holder(name string) (session, token uint64) {
	l := h.t.locks[name]
	if l == nil || l.holder == nil {
		return 0, 0
	}
	return l.holder.sess.ref.ID, l.holder.token
}

func TestReleaseWakesOnlyTheNextWaiterInFIFOOrder(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a, b, c, d := h.open("a"), h.open("b"), h.open("c"), h.open("d")
	tokA := h.lock(a, "x", 1)
	h.wait(b, "x", 1)
	h.wait(c, "x", 1)
	h.wait(d, "x", 1)

	changed := h.release(a, 1)
	assert.ElementsMatch(t, []acqKey{{a.ID, 1}, {b.ID, 1}}, changed, "released and woken")
	s, tokB := h.holder("x")
	assert.Equal(t, b.ID, s)
	assert.Greater(t, tokB, tokA)

	changed = h.release(b, 1)
	assert.ElementsMatch(t, []acqKey{{b.ID, 1}, {c.ID, 1}}, changed)
	s, _ = h.holder("x")
	assert.Equal(t, c.ID, s)
}

func TestTokensOnlyGrowAcrossLocksAndSessions(t *testing.T) {
	h := newHarness(t, durableState{}, 3)
	var last uint64
	for i := range 20 {
		s := h.open("c")
		name := []string{"x", "y"}[i%2]
		tok := h.lock(s, name, 1)
		require.Greater(t, tok, last)
		last = tok
		h.release(s, 1)
	}
}

func TestTokenHighWaterMarkIsSavedInBlocksBeforeUse(t *testing.T) {
	h := newHarness(t, durableState{}, 4)
	require.Len(t, h.saves, 1, "startup reserves the first block")
	s := h.open("c")
	for seq := uint64(1); seq <= 10; seq++ {
		tok := h.lock(s, "x", seq)
		last := h.saves[len(h.saves)-1]
		require.Less(t, tok, last.TokenLimit, "token %d issued before the limit covering it was saved", tok)
		h.release(s, seq)
	}
	// Tokens 1..10 need limits 5, 9, 13: three saves.
	assert.Len(t, h.saves, 3)
}

func TestRestartContinuesAboveSavedLimit(t *testing.T) {
	h := newHarness(t, durableState{Epoch: 4, TokenLimit: 500}, 10)
	assert.Equal(t, uint64(5), h.t.epoch)
	s := h.open("c")
	assert.Equal(t, uint64(500), h.lock(s, "x", 1))
}

func TestAcquireRepeatedReturnsTheSameGrant(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a, b := h.open("a"), h.open("b")
	tok := h.lock(a, "x", 1)
	h.wait(b, "x", 7)
	for range 3 {
		assert.Equal(t, tok, h.lock(a, "x", 1), "retried acquire")
		h.wait(b, "x", 7) // still queued, in the same place
	}
	assert.Len(t, h.t.locks["x"].queue, 1)
}

func TestLateAcquireOfReleasedAcquisitionIsRefused(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a := h.open("a")
	h.lock(a, "x", 1)
	h.release(a, 1)
	_, _, _, err := h.t.acquire(h.now, a, "x", 1, true)
	require.ErrorIs(t, err, errStale)
	s, _ := h.holder("x")
	assert.Zero(t, s, "a duplicate acquire must not take the lock again")
}

func TestReleaseOvertakingItsAcquireWins(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a := h.open("a")
	h.release(a, 1) // the cancel arrives first
	_, _, _, err := h.t.acquire(h.now, a, "x", 1, true)
	require.ErrorIs(t, err, errStale)
}

func TestLateReleaseNeverReleasesANewerAcquisition(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a, b := h.open("a"), h.open("b")
	h.lock(a, "x", 1)
	h.release(a, 1)
	tok2 := h.lock(a, "x", 2)
	h.release(a, 1) // a late copy of the first release
	s, tok := h.holder("x")
	assert.Equal(t, a.ID, s)
	assert.Equal(t, tok2, tok)

	h.release(a, 2)
	h.lock(b, "x", 1)
	h.release(a, 2) // and of the second, now that b holds it
	s, _ = h.holder("x")
	assert.Equal(t, b.ID, s)
}

func TestTryLockFailsWithoutQueueingAndCannotSucceedLater(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a, b := h.open("a"), h.open("b")
	h.lock(a, "x", 1)
	_, _, _, err := h.t.acquire(h.now, b, "x", 1, false)
	require.ErrorIs(t, err, ErrLocked)
	assert.Empty(t, h.t.locks["x"].queue)

	h.release(a, 1)
	_, _, _, err = h.t.acquire(h.now, b, "x", 1, false)
	require.ErrorIs(t, err, errStale, "a late copy of a failed TryLock")
	tok, queued, _, err := h.t.acquire(h.now, b, "x", 2, false)
	require.NoError(t, err)
	assert.False(t, queued)
	assert.NotZero(t, tok)
}

func TestExpiredHolderLosesLockAfterLockDelay(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a, b := h.open("a"), h.open("b")
	h.lock(a, "x", 1)
	h.wait(b, "x", 1)

	h.advance(testTTL / 2)
	h.renew(b, 2, 1) // b renews, a does not
	changed := h.advance(testTTL / 2)
	assert.Equal(t, []acqKey{{a.ID, 1}}, changed, "a's session expired")
	s, _ := h.holder("x")
	assert.Zero(t, s, "nobody holds x during the lock-delay")
	_, err := h.t.session(a)
	require.ErrorIs(t, err, ErrSessionExpired)

	assert.Equal(t, h.now.Add(testLockDelay), h.t.deadline())
	assert.Empty(t, h.advance(testLockDelay-time.Millisecond))
	changed = h.advance(time.Millisecond)
	assert.Equal(t, []acqKey{{b.ID, 1}}, changed)
	s, _ = h.holder("x")
	assert.Equal(t, b.ID, s)
}

func TestRenewedSessionExpiresOneTTLAfterItsLastRenewal(t *testing.T) {
	// A renewal moves the expiry to TTL after it, not further: a session
	// renewed for a while and then silent ends one TTL after the last
	// renewal, and its lock passes on a lock-delay later.
	h := newHarness(t, durableState{}, 100)
	a, b := h.open("a"), h.open("b")
	h.lock(a, "x", 1)
	h.wait(b, "x", 1)
	for range 5 {
		h.advance(testTTL / 3)
		h.renew(a, 2, 1)
		h.renew(b, 2, 1)
	}
	lastRenewal := h.now
	h.advance(testTTL / 2)
	h.renew(b, 2, 1) // b keeps renewing; a has gone silent

	assert.Empty(t, h.advance(lastRenewal.Add(testTTL-time.Millisecond).Sub(h.now)))
	s, _ := h.holder("x")
	require.Equal(t, a.ID, s, "a's session lives until one TTL after its last renewal")
	assert.Equal(t, []acqKey{{a.ID, 1}}, h.advance(time.Millisecond), "a's session expired at lastRenewal+TTL")

	assert.Empty(t, h.advance(testLockDelay-time.Millisecond))
	assert.Equal(t, []acqKey{{b.ID, 1}}, h.advance(time.Millisecond), "b granted at lastRenewal+TTL+lock-delay")
	s, _ = h.holder("x")
	assert.Equal(t, b.ID, s)
}

func TestCleanReleaseAndCloseHaveNoLockDelay(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a, b, c := h.open("a"), h.open("b"), h.open("c")
	h.lock(a, "x", 1)
	h.wait(b, "x", 1)
	h.wait(c, "x", 1)
	h.t.closeSession(h.now, a)
	s, _ := h.holder("x")
	assert.Equal(t, b.ID, s)
	h.release(b, 1)
	s, _ = h.holder("x")
	assert.Equal(t, c.ID, s)
	assert.Empty(t, h.t.closeSession(h.now, a), "closing twice")
}

func TestWaiterWhoseSessionExpiresLeavesTheQueue(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a, b, c := h.open("a"), h.open("b"), h.open("c")
	h.lock(a, "x", 1)
	h.wait(b, "x", 1)
	h.wait(c, "x", 1)
	h.advance(testTTL - time.Second)
	h.renew(a, 2, 1)
	h.renew(c, 2, 1)
	changed := h.advance(time.Second)
	assert.Equal(t, []acqKey{{b.ID, 1}}, changed, "b's wait ended with its session")
	h.release(a, 1)
	s, _ := h.holder("x")
	assert.Equal(t, c.ID, s)
}

func TestKeepAliveEndsWhatTheClientNoLongerWants(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a, b := h.open("a"), h.open("b")
	h.lock(a, "x", 1) // the client gave up on it; its release was lost
	h.lock(a, "y", 2) // still held
	h.wait(b, "x", 1)
	changed := h.renew(a, 3, 2)
	assert.ElementsMatch(t, []acqKey{{a.ID, 1}, {b.ID, 1}}, changed)
	s, _ := h.holder("y")
	assert.Equal(t, a.ID, s)
	_, _, _, err := h.t.acquire(h.now, a, "x", 1, true)
	require.ErrorIs(t, err, errStale, "below the floor")
	// An acquisition started after the renewal was sent is untouched by it.
	h.lock(a, "z", 3)
	h.renew(a, 3, 2)
	s, _ = h.holder("z")
	assert.Equal(t, a.ID, s)
	assert.Empty(t, h.t.sessions[a.ID].ended, "the floor trims the ended set")
}

func TestRestartGrantsNothingUntilPreviousLeasesCouldHaveExpired(t *testing.T) {
	prevHorizon := 2 * (testTTL + testLockDelay) // the previous run had longer leases
	h := newHarness(t, durableState{Epoch: 1, TokenLimit: 50, Horizon: prevHorizon}, 100)
	assert.Equal(t, prevHorizon, h.saves[0].Horizon, "during the grace, the larger horizon is recorded")
	a, b := h.open("a"), h.open("b")
	_, _, _, err := h.t.acquire(h.now, a, "x", 1, false)
	require.ErrorIs(t, err, ErrLocked)
	h.wait(b, "x", 1)

	for h.now.Before(t0.Add(prevHorizon - testTTL/2)) {
		h.renew(b, 2, 1)
		assert.Empty(t, h.advance(testTTL/2))
	}
	h.renew(b, 2, 1)
	changed := h.advance(testTTL / 2)
	assert.Equal(t, []acqKey{{b.ID, 1}}, changed)
	_, tok := h.holder("x")
	assert.Equal(t, uint64(50), tok)
	assert.Equal(t, testTTL+testLockDelay, h.t.horizon(h.now), "after the grace, this run's own")
}

func TestSessionsOfAnotherRunAreExpired(t *testing.T) {
	h := newHarness(t, durableState{Epoch: 7, TokenLimit: 1}, 100)
	_, _, _, err := h.t.acquire(h.now, sessionRef{Epoch: 7, ID: 1}, "x", 1, true)
	require.ErrorIs(t, err, ErrSessionExpired)
	_, err = h.t.keepAlive(h.now, sessionRef{Epoch: 8, ID: 99}, 1, 0, nil)
	require.ErrorIs(t, err, ErrSessionExpired)
}

func TestSaveFailureStopsAllGrants(t *testing.T) {
	h := newHarness(t, durableState{}, 1)
	a, b := h.open("a"), h.open("b")
	h.lock(a, "x", 1) // uses the block reserved at startup
	h.wait(b, "x", 1)
	h.failSave = errors.New("disk full")
	changed := h.release(a, 1)
	assert.Equal(t, []acqKey{{a.ID, 1}}, changed, "b is not granted without a durable token")
	_, _, _, err := h.t.acquire(h.now, a, "y", 2, true)
	require.ErrorContains(t, err, "disk full")
	h.failSave = nil
	_, _, _, err = h.t.acquire(h.now, a, "z", 3, true)
	require.Error(t, err, "the failure is sticky: a token might repeat")
}

func TestAcquireOfSameSeqForAnotherNameIsAnError(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a := h.open("a")
	h.lock(a, "x", 1)
	_, _, _, err := h.t.acquire(h.now, a, "y", 1, true)
	require.ErrorContains(t, err, "is for")
}

func TestViewShowsHoldersAndWaiters(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a, b := h.open("alice"), h.open("bob")
	tok := h.lock(a, "printer", 1)
	h.wait(b, "printer", 1)
	h.lock(b, "door", 2)
	want := []LockInfo{
		{Name: "door", Holder: "bob", Token: tok + 1, Since: t0},
		{Name: "printer", Holder: "alice", Token: tok, Since: t0, Waiters: []string{"bob"}},
	}
	assert.Equal(t, want, h.t.view(h.now))
	h.release(a, 1)
	h.release(b, 1)
	h.release(b, 2)
	assert.Empty(t, h.t.view(h.now), "idle locks are forgotten")
}

func TestAcquireDelayedPastARenewalStillCounts(t *testing.T) {
	// The client starts acquisition 1 and renews; the renewal overtakes
	// the acquire. The acquire is new, not a late copy.
	h := newHarness(t, durableState{}, 100)
	a := h.open("a")
	h.renew(a, 2, 1)
	h.lock(a, "x", 1)
	h.release(a, 1)
	_, _, _, err := h.t.acquire(h.now, a, "x", 1, true)
	require.ErrorIs(t, err, errStale, "but a copy after its release is late")
	h.renew(a, 2)
	_, _, _, err = h.t.acquire(h.now, a, "x", 1, true)
	require.ErrorIs(t, err, errStale, "and stays late once the record is trimmed")
	assert.Empty(t, h.t.sessions[a.ID].ended)
}

func TestRenewalOvertakenByANewerOneIsIgnored(t *testing.T) {
	h := newHarness(t, durableState{}, 100)
	a := h.open("a")
	h.lock(a, "x", 1)
	h.lock(a, "y", 2)
	_, err := h.t.keepAlive(h.now, a, 5, 3, []uint64{1, 2})
	require.NoError(t, err)
	// Renewal 4 was sent before 5, when acquisition 2 had not started.
	changed, err := h.t.keepAlive(h.now, a, 4, 2, []uint64{1})
	require.NoError(t, err)
	assert.Empty(t, changed)
	s, _ := h.holder("y")
	assert.Equal(t, a.ID, s)
}
