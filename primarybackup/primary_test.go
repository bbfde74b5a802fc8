package primarybackup_test

import (
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/primarybackup"
)

func TestAsyncWriteIsCopiedToTheBackup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, primarybackup.Config{})
		require.NoError(t, p.put("x", "1"))
		p.synced(t)
		got := p.backupGet(t, "x")
		assert.True(t, got.Same(p.primary.Value("x")))
		assert.Equal(t, "1", got.Value)
	})
}

func TestAsyncWritesStayAvailableAndBackupGoesStaleInAPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, primarybackup.Config{})
		require.NoError(t, p.put("x", "1"))
		p.synced(t)
		p.net.Partition([]string{"primary", "client"}, []string{"backup"})
		require.NoError(t, p.put("x", "2"), "the write is acknowledged without the backup")
		assert.False(t, p.primary.Synced())
		p.net.Partition([]string{"primary"}, []string{"backup", "client"})
		assert.Equal(t, "1", p.backupGet(t, "x").Value, "a read at the backup is stale")

		p.net.Heal()
		p.synced(t)
		assert.Equal(t, "2", p.backupGet(t, "x").Value, "the next copy brings the backup up to date")
	})
}

func TestSyncWriteIsRefusedAndNotKeptWhenTheBackupIsCutOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, primarybackup.Config{Sync: true})
		require.NoError(t, p.put("x", "1"))
		assert.Equal(t, "1", p.backupGet(t, "x").Value, "a synchronous write is on the backup when it returns")

		p.net.Partition([]string{"primary", "client"}, []string{"backup"})
		err := p.put("x", "2")
		require.ErrorIs(t, err, primarybackup.ErrNotReplicated)
		assert.Equal(t, "1", p.primary.Value("x").Value, "the refused write is not kept")

		p.net.Heal()
		p.synced(t)
		assert.Equal(t, "1", p.backupGet(t, "x").Value)
		require.NoError(t, p.put("x", "3"), "writes are accepted again")
		assert.Equal(t, "3", p.backupGet(t, "x").Value)
	})
}

func TestRestartedBackupIsRefilledByTheHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, primarybackup.Config{})
		require.NoError(t, p.put("x", "1"))
		require.NoError(t, p.put("y", "2"))
		p.synced(t)

		p.net.Crash("backup") // its memory dies with it
		p.net.Restart("backup")
		serve(t, p.net, "backup", &primarybackup.Backup{})
		p.synced(t)
		assert.Equal(t, "2", p.backupGet(t, "y").Value, "the heartbeat sent the whole table again")
	})
}

func TestBackupIgnoresOlderTables(t *testing.T) {
	var b primarybackup.Backup
	var seq int64
	require.NoError(t, b.Apply(&primarybackup.Table{Seq: 2, Values: map[string]string{"x": "new"}}, &seq))
	require.NoError(t, b.Apply(&primarybackup.Table{Seq: 1, Values: map[string]string{"x": "old"}}, &seq))
	assert.Equal(t, int64(2), seq, "a late copy of an older table changes nothing")
	var r primarybackup.GetReply
	key := "x"
	require.NoError(t, b.Get(&key, &r))
	assert.Equal(t, "new", r.Value)
}

func TestCloseIsIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, primarybackup.Config{Sync: true})
		require.NoError(t, p.primary.Close())
		require.NoError(t, p.primary.Close())
		assert.Error(t, p.put("x", "1"), "a closed primary's replicator takes no writes")
	})
}
