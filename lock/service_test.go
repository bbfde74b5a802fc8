package lock_test

import (
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/lock"
)

// Every test here runs in a synctest bubble: leases, renewals and
// lock-delays run on virtual time, so a test of a 10-second TTL takes
// milliseconds.

const (
	ttl       = 10 * time.Second
	lockDelay = 4 * time.Second
)

func testConfig() lock.Config { return lock.Config{TTL: ttl, LockDelay: lockDelay} }

func TestHolderRenewedThenSilentLosesTheLockOneTTLAfterItsLastRenewal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		f := newFixture(t, testConfig())
		a, cut := f.cutOffClient(ctx)
		b := f.client(ctx)

		la, err := a.Mutex("x").Lock(ctx)
		require.NoError(t, err)
		time.Sleep(3 * ttl) // a renews its session, several times
		lastRenewal := cut.renewedAt()
		require.WithinDuration(t, time.Now(), lastRenewal, ttl/3, "a renews three times per TTL")
		require.Equal(t, lastRenewal.Add(ttl), la.Expiry(), "a's own estimate counts from its last renewal")
		cut.setCut(true) // then goes silent

		_, err = b.Mutex("x").Lock(ctx)
		require.NoError(t, err)
		assert.Equal(t, lastRenewal.Add(ttl+lockDelay), time.Now(),
			"b is granted exactly TTL + lock-delay after a's last renewal reached the server")
	})
}

func TestRestartKeepsTokensGrowingAndOldLeasesUnbroken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		f := newFixture(t, testConfig())
		a := f.client(ctx)
		b := f.client(ctx)

		la, err := a.Mutex("x").Lock(ctx)
		require.NoError(t, err)
		time.Sleep(ttl / 2)
		f.crash()
		crashed := time.Now()
		time.Sleep(time.Second)
		require.NoError(t, f.start())
		restarted := time.Now()

		lb, err := b.Mutex("x").Lock(ctx)
		require.NoError(t, err)
		granted := time.Now()
		assert.Greater(t, lb.Token(), la.Token(), "tokens grow across the restart")
		assert.GreaterOrEqual(t, granted.Sub(restarted), ttl+lockDelay, "grace period after restart")
		assert.GreaterOrEqual(t, granted.Sub(crashed), ttl+lockDelay)

		// a's lease was not broken silently: a learned it was lost, when
		// its renewal found its session gone.
		<-la.Done()
		assert.ErrorIs(t, la.Err(), lock.ErrSessionExpired)
	})
}

func TestPowerCutNeverReusesATokenNorBreaksALease(t *testing.T) {
	// The server's directory is on a file system that loses, in a power
	// cut, whatever was not synced: the token high-water mark and the
	// horizon must have been.
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		cfg := testConfig()
		cfg.TokenBlock = 3 // several saves
		f, disk := newMemFixture(t, cfg)
		a, cut := f.cutOffClient(ctx)
		b := f.client(ctx)

		ma := a.Mutex("x")
		for range 7 { // tokens 1 to 7: three blocks reserved
			_, err := ma.Lock(ctx)
			require.NoError(t, err)
			require.NoError(t, ma.Unlock(ctx))
		}
		last, err := ma.Lock(ctx)
		require.NoError(t, err)
		cut.setCut(true) // a cannot hear of the restart: it believes in its lease
		f.crash()
		disk.Crash() // the power goes
		require.NoError(t, f.start())

		lb, err := b.Mutex("x").Lock(ctx)
		require.NoError(t, err)
		assert.Greater(t, lb.Token(), last.Token(), "a token issued before the power cut is issued again")
		assert.False(t, time.Now().Before(last.Expiry()), "b was granted at %v, while a believed in its lease until %v",
			time.Now(), last.Expiry())
	})
}

func TestNewServerRefusesDamagedState(t *testing.T) {
	dir := t.TempDir()
	srv, err := lock.NewServer(lock.Config{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	path := filepath.Join(dir, lock.StateFileName)

	tests := []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty", func([]byte) []byte { return nil }},
		{"bit flip", func(b []byte) []byte { b[17] ^= 1; return b }},
	}
	good, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, tt.damage(append([]byte(nil), good...)), 0o644))
			_, err := lock.NewServer(lock.Config{Dir: dir})
			require.ErrorIs(t, err, lock.ErrCorruptState)
			assert.ErrorContains(t, err, path)
		})
	}
	require.NoError(t, os.WriteFile(path, good, 0o644))
	srv, err = lock.NewServer(lock.Config{Dir: dir})
	require.NoError(t, err, "the undamaged file is accepted again")
	require.NoError(t, srv.Close())
}

func TestNewServerRejectsBadConfig(t *testing.T) {
	_, err := lock.NewServer(lock.Config{})
	require.ErrorContains(t, err, "Dir is required")
	_, err = lock.NewServer(lock.Config{Dir: t.TempDir(), TTL: -time.Second})
	require.ErrorContains(t, err, "TTL")
}

func TestRestartGrantsNothingWhileACutOffHolderStillBelievesItsLease(t *testing.T) {
	// A holds the lock and is cut off; it cannot hear that the server
	// restarted, so it believes in its lease until its expiry. The
	// restarted server must not grant the lock before then.
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		f := newFixture(t, testConfig())
		a, cut := f.cutOffClient(ctx)
		b := f.client(ctx)

		la, err := a.Mutex("x").Lock(ctx)
		require.NoError(t, err)
		cut.setCut(true)
		f.crash()
		require.NoError(t, f.start())
		believed := la.Expiry()

		_, err = b.Mutex("x").Lock(ctx)
		require.NoError(t, err)
		assert.False(t, time.Now().Before(believed), "b was granted at %v, while a believed in its lease until %v",
			time.Now(), believed)
	})
}
