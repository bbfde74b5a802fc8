package cli_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// failingDisk is a raft storage whose every Save fails.
type failingDisk struct{ *raft.MemoryStorage }

var errDisk = errors.New("disk failed")

func (failingDisk) Save(raft.HardState, []raft.Entry) error { return errDisk }

// startNode starts a one-server raft node on storage, in a synctest bubble.
func startNode(t *testing.T, storage raft.Storage) *raft.Node {
	net := netsim.NewNetwork(1)
	t.Cleanup(func() { net.Close() })
	l, err := net.Listen("n1")
	require.NoError(t, err)
	node, err := raft.NewNode(raft.NodeConfig{
		Config:   raft.Config{ID: 1, Storage: storage},
		Addrs:    map[uint64]string{1: "n1"},
		Listener: l,
		Dialer:   net.Dialer("n1"),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = node.Close() })
	return node
}

// A replica whose disk fails ends: WaitRaft returns the storage's error
// for the program to exit with. One told to stop returns nil.
func TestWaitRaft(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		node := startNode(t, failingDisk{raft.NewMemoryStorage()})
		err := cli.WaitRaft(context.Background(), "prog", node, nil) // it campaigns, and cannot save its vote
		require.ErrorIs(t, err, errDisk)
		assert.ErrorContains(t, err, "prog: raft stopped")
	})
	synctest.Test(t, func(t *testing.T) {
		node := startNode(t, raft.NewMemoryStorage())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.NoError(t, cli.WaitRaft(ctx, "prog", node, nil))
	})
}
