package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/distsys-kit/distsys/raft/raftbench"
)

// hashicorpCluster is hashicorp raft as its users run it: raft-boltdb for
// the log and stable store when durable (bbolt fsyncs every commit), its
// in-memory store otherwise, and its NetworkTransport over TCP. Its
// configuration is the default, but for timeouts shortened to ours (an
// election after 100 to 200ms), which only makes the first election
// quicker.
type hashicorpCluster struct {
	rafts      []*hraft.Raft
	transports []*hraft.NetworkTransport
	closers    []io.Closer // the bolt stores
	leader     atomic.Int64
}

var _ raftbench.System = (*hashicorpCluster)(nil)

// nopFSM is a state machine that keeps nothing: the benchmark measures
// the log.
type nopFSM struct{}

func (nopFSM) Apply(*hraft.Log) any                    { return nil }
func (nopFSM) Snapshot() (hraft.FSMSnapshot, error)    { return nopSnapshot{}, nil }
func (nopFSM) Restore(r io.ReadCloser) error           { return r.Close() }
func (nopSnapshot) Persist(s hraft.SnapshotSink) error { return s.Close() }
func (nopSnapshot) Release()                           {}

type nopSnapshot struct{}

// startHashicorpCluster starts n servers on 127.0.0.1, with bolt stores in
// dir/<id> unless dir is "".
func startHashicorpCluster(n int, dir string) (*hashicorpCluster, error) {
	c := &hashicorpCluster{}
	logger := hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Off})
	var servers []hraft.Server
	for i := range n {
		t, err := hraft.NewTCPTransportWithLogger("127.0.0.1:0", nil, 3, 10*time.Second, logger)
		if err != nil {
			return nil, errors.Join(err, c.Close())
		}
		c.transports = append(c.transports, t)
		servers = append(servers, hraft.Server{ID: hraft.ServerID(fmt.Sprint(i + 1)), Address: t.LocalAddr()})
	}
	for i, t := range c.transports {
		conf := hraft.DefaultConfig()
		conf.LocalID = servers[i].ID
		conf.Logger = logger
		conf.HeartbeatTimeout = 100 * time.Millisecond
		conf.ElectionTimeout = 100 * time.Millisecond
		conf.LeaderLeaseTimeout = 100 * time.Millisecond
		var logs hraft.LogStore
		var stable hraft.StableStore
		if dir == "" {
			s := hraft.NewInmemStore()
			logs, stable = s, s
		} else {
			s, err := raftboltdb.NewBoltStore(filepath.Join(dir, fmt.Sprint(i+1)+".bolt"))
			if err != nil {
				return nil, errors.Join(err, c.Close())
			}
			c.closers = append(c.closers, s)
			logs, stable = s, s
		}
		snaps := hraft.NewDiscardSnapshotStore()
		err := hraft.BootstrapCluster(conf, logs, stable, snaps, t, hraft.Configuration{Servers: servers})
		if err != nil {
			return nil, errors.Join(err, c.Close())
		}
		r, err := hraft.NewRaft(conf, nopFSM{}, logs, stable, snaps, t)
		if err != nil {
			return nil, errors.Join(err, c.Close())
		}
		c.rafts = append(c.rafts, r)
	}
	return c, nil
}

// Commit applies cmd at the leader: Apply's future returns once the
// leader's state machine applied it.
func (c *hashicorpCluster) Commit(ctx context.Context, cmd []byte) error {
	data := append([]byte(nil), cmd...)
	for {
		k := c.leader.Load()
		err := c.rafts[k].Apply(data, 0).Error()
		if !errors.Is(err, hraft.ErrNotLeader) && !errors.Is(err, hraft.ErrLeadershipLost) {
			return err
		}
		for i, r := range c.rafts {
			if r.State() == hraft.Leader {
				c.leader.Store(int64(i))
			}
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close shuts the servers down, then their transports and stores.
func (c *hashicorpCluster) Close() error {
	var errs []error
	for _, r := range c.rafts {
		errs = append(errs, r.Shutdown().Error())
	}
	for _, t := range c.transports {
		// CloseStreams closes the pooled connections to the peers, whose
		// readers would outlive Close otherwise.
		t.CloseStreams()
		errs = append(errs, t.Close())
	}
	for _, s := range c.closers {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
