package rsm_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// raft.Node.Snapshot documents that it may be called from the goroutine
// reading Apply, for any index Apply has delivered. The node once recorded
// an entry as delivered only after the send on the Apply channel had
// completed, so the receiver, running first, could be refused with
// ErrSnapshotIndex for the entry it had just received (package rsm still
// tries again after the next entry, harmlessly). This test failed then.
func TestRaftSnapshotOfTheEntryJustReceived(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := netsim.NewNetwork(1)
		defer net.Close()
		l, err := net.Listen("n1")
		require.NoError(t, err)
		n, err := raft.NewNode(raft.NodeConfig{
			Config:   raft.Config{ID: 1, Storage: raft.NewMemoryStorage(), Seed: 1},
			Addrs:    map[uint64]string{1: "n1"},
			Listener: l,
			Dialer:   net.Dialer("n1"),
		})
		require.NoError(t, err)
		defer n.Close()
		for i := range 200 {
			for {
				if _, _, err := n.Propose(context.Background(), []byte("x")); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond) // virtual time: wait for the election
			}
			m := <-n.Apply()
			require.NoError(t, n.Snapshot(m.Index, []byte("state")), "snapshot %d at the index just received", i)
		}
	})
}
