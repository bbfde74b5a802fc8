package raftbench_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/raftbench"
	"github.com/distsys-kit/distsys/raft/wal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func commitSome(t *testing.T, s raftbench.System) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := uint64(1); i <= 20; i++ {
		cmd := binary.BigEndian.AppendUint64(nil, i)
		require.NoError(t, s.Commit(ctx, append(cmd, "payload"...)))
	}
}

func TestTCPClusterCommits(t *testing.T) {
	c, err := raftbench.StartTCPCluster(3, nil)
	require.NoError(t, err)
	commitSome(t, c)
	require.NoError(t, c.Close())
}

func TestTCPClusterCommitsOnWAL(t *testing.T) {
	dir := t.TempDir()
	c, err := raftbench.StartTCPCluster(3, func(id uint64) (raft.Storage, error) {
		return wal.Open(filepath.Join(dir, fmt.Sprint(id)))
	})
	require.NoError(t, err)
	commitSome(t, c)
	require.NoError(t, c.Close())
}

func TestRPCBaselineCommits(t *testing.T) {
	b, err := raftbench.StartRPCBaseline(2)
	require.NoError(t, err)
	commitSome(t, b)
	require.NoError(t, b.Close())
}

// BenchmarkCommit commits 100-byte commands on a 3-node cluster of Nodes
// over loopback TCP with MemoryStorage, beside the network's floor (one
// net/rpc round trip to a majority), with 1 and 64 concurrent proposers.
//
//	go test -run='^$' -bench=Commit -benchmem ./raft/raftbench/
func BenchmarkCommit(b *testing.B) {
	for _, proposers := range []int{1, 64} {
		b.Run(fmt.Sprintf("raft-tcp/proposers=%d", proposers), func(b *testing.B) {
			c, err := raftbench.StartTCPCluster(3, nil)
			require.NoError(b, err)
			defer c.Close()
			raftbench.Run(b, c, proposers, 100)
		})
		b.Run(fmt.Sprintf("netrpc-baseline/proposers=%d", proposers), func(b *testing.B) {
			s, err := raftbench.StartRPCBaseline(2)
			require.NoError(b, err)
			defer s.Close()
			raftbench.Run(b, s, proposers, 100)
		})
	}
}
