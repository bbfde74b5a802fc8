package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/raftbench"
	"github.com/distsys-kit/distsys/raft/wal"
)

// A system is a way to start a 3-server cluster: in memory, or durable
// (fsync before acknowledging) with its files in dir.
type system struct {
	name    string
	durable bool
	start   func(dir string) (raftbench.System, io.Closer, error)
}

var systems = []system{
	{"distsys", false, func(string) (raftbench.System, io.Closer, error) {
		c, err := raftbench.StartTCPCluster(3, nil)
		return c, c, err
	}},
	{"distsys", true, func(dir string) (raftbench.System, io.Closer, error) {
		c, err := raftbench.StartTCPCluster(3, func(id uint64) (raft.Storage, error) {
			return wal.Open(filepath.Join(dir, fmt.Sprint(id)))
		})
		return c, c, err
	}},
	{"etcd", false, func(string) (raftbench.System, io.Closer, error) {
		c, err := startEtcdCluster(3, "")
		return c, c, err
	}},
	{"etcd", true, func(dir string) (raftbench.System, io.Closer, error) {
		c, err := startEtcdCluster(3, dir)
		return c, c, err
	}},
	{"hashicorp", false, func(string) (raftbench.System, io.Closer, error) {
		c, err := startHashicorpCluster(3, "")
		return c, c, err
	}},
	{"hashicorp", true, func(dir string) (raftbench.System, io.Closer, error) {
		c, err := startHashicorpCluster(3, dir)
		return c, c, err
	}},
	{"netrpc-floor", false, func(string) (raftbench.System, io.Closer, error) {
		b, err := raftbench.StartRPCBaseline(2)
		return b, b, err
	}},
}

func storageName(durable bool) string {
	if durable {
		return "disk"
	}
	return "mem"
}

// Every cluster the benchmarks measure commits, and applies in order
// what it commits (checked by raftbench's command numbers).
func TestClustersCommit(t *testing.T) {
	for _, s := range systems {
		t.Run(s.name+"/"+storageName(s.durable), func(t *testing.T) {
			sys, closer, err := s.start(t.TempDir())
			require.NoError(t, err)
			defer func() { require.NoError(t, closer.Close()) }()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for i := uint64(1); i <= 20; i++ {
				cmd := binary.BigEndian.AppendUint64(nil, i)
				require.NoError(t, sys.Commit(ctx, append(cmd, make([]byte, 92)...)))
			}
		})
	}
}

// BenchmarkCommit commits 100-byte commands on 3-server clusters on
// loopback TCP in this process, with 1 and 64 concurrent proposers, and
// reports commits/s and the p50 and p99 of the time from proposal to
// commit:
//
//	cd bench && go test -run='^$' -bench=Commit -benchtime=5s
//
// storage=disk fsyncs before acknowledging (files in the test's
// temporary directory: put TMPDIR on the disk you mean to measure);
// storage=mem keeps the log in memory. netrpc-floor is the network alone:
// one net/rpc round trip to a majority per command, no log.
func BenchmarkCommit(b *testing.B) {
	for _, durable := range []bool{false, true} {
		for _, proposers := range []int{1, 64} {
			for _, s := range systems {
				if s.durable != durable && s.name != "netrpc-floor" {
					continue
				}
				name := fmt.Sprintf("storage=%s/proposers=%d/%s", storageName(durable), proposers, s.name)
				b.Run(name, func(b *testing.B) {
					sys, closer, err := s.start(b.TempDir())
					require.NoError(b, err)
					defer closer.Close()
					raftbench.Run(b, sys, proposers, 100)
				})
			}
		}
	}
}
