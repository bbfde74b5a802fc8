package main

import (
	"context"
	"slices"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/primarybackup"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// cluster is the system the demo runs: four nodes on a simulated network.
//
//	alice ──Put, Get──▶ primary ──Backup.Apply──▶ backup ◀──Get── bob
//	                       ▲                                      │
//	                       └─────────────────Put──────────────────┘
type cluster struct {
	net     *netsim.Network
	primary *primarybackup.Primary
	alice   *rpc.Client // alice's calls to the primary
	bobPut  *rpc.Client // bob's calls to the primary
	bobGet  *rpc.Client // bob's calls to the backup
	closers []func()    // run in reverse order by close
}

// sides returns the nodes, as the two sides of the partition.
func sides() (primarySide, backupSide []string) {
	return []string{"primary", "alice"}, []string{"backup", "bob"}
}

// startCluster starts the replicas and connects the clients. The caller
// must call close, even after an error.
func startCluster(ctx context.Context, cfg config, tr *demo.Tracer) (*cluster, error) {
	c := &cluster{net: netsim.NewNetwork(cfg.faults.Seed, tr.NetsimOptions()...)}
	c.closers = append(c.closers, func() { c.net.Close() })
	if err := c.net.SetDefaultFaults(cfg.faults); err != nil {
		return c, err
	}
	// A copy to the backup may take a quarter of a client's patience, so
	// that a -sync write, which may wait for one copy besides its own, is
	// refused before its client gives up.
	copyTimeout := cfg.timeout / 4
	if err := c.serve("backup", &primarybackup.Backup{}, tr); err != nil {
		return c, err
	}
	toBackup, err := c.dial(ctx, "primary", "backup", copyTimeout/2, tr)
	if err != nil {
		return c, err
	}
	c.primary = primarybackup.NewPrimary(toBackup, primarybackup.Config{Sync: cfg.sync, CopyTimeout: copyTimeout})
	c.closers = append(c.closers, func() { c.primary.Close() })
	if err := c.serve("primary", c.primary, tr); err != nil {
		return c, err
	}
	// Clients resend a request that gets no reply for a while (rpc.WithRetry,
	// which also makes the server run it at most once), so that the faults
	// of -drop cost time rather than calls.
	retry := cfg.timeout / 16
	if c.alice, err = c.dial(ctx, "alice", "primary", retry, tr); err != nil {
		return c, err
	}
	if c.bobPut, err = c.dial(ctx, "bob", "primary", retry, tr); err != nil {
		return c, err
	}
	c.bobGet, err = c.dial(ctx, "bob", "backup", retry, tr)
	return c, err
}

// serve starts an rpc server for rcvr on node.
func (c *cluster) serve(node string, rcvr any, tr *demo.Tracer) error {
	l, err := c.net.Listen(node)
	if err != nil {
		return err
	}
	srv := rpc.NewServer(append(tr.ServerOptions(node), rpc.WithErrors(primarybackup.ErrNotReplicated))...)
	if err := srv.Register(rcvr); err != nil {
		l.Close()
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }() // exits when srv is closed
	c.closers = append(c.closers, func() { srv.Close(); <-served })
	return nil
}

// dial connects an rpc client on node from to the server on node to.
func (c *cluster) dial(ctx context.Context, from, to string, retry time.Duration, tr *demo.Tracer) (*rpc.Client, error) {
	opts := append(tr.ClientOptions(from, to),
		rpc.WithDialer(c.net.Dialer(from)),
		rpc.WithErrors(primarybackup.ErrNotReplicated),
		rpc.WithRetry(rpc.RetryPolicy{Interval: retry}))
	rc, err := rpc.Dial(ctx, to, opts...)
	if err != nil {
		return nil, err
	}
	c.closers = append(c.closers, func() { rc.Close() })
	return rc, nil
}

// close stops everything, the last started first.
func (c *cluster) close() {
	for _, f := range slices.Backward(c.closers) {
		f()
	}
}

// lostAtCut returns how many messages the network has lost on the links
// between the two sides of the partition, not counting the losses of the
// faults (-drop): the messages the partition ate.
func (c *cluster) lostAtCut() int64 {
	primarySide, backupSide := sides()
	var n int64
	for _, a := range primarySide {
		for _, b := range backupSide {
			for _, s := range []netsim.LinkStats{c.net.LinkStats(a, b), c.net.LinkStats(b, a)} {
				n += s.Dropped - s.Faults.Dropped
			}
		}
	}
	return n
}

// lostToFaults returns how many messages the faults (-drop) have lost on
// every link of the cluster.
func (c *cluster) lostToFaults() int64 {
	nodes := slices.Concat(sides())
	var n int64
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				n += c.net.LinkStats(a, b).Faults.Dropped
			}
		}
	}
	return n
}

// delivered returns how many messages the network has delivered, in all.
func (c *cluster) delivered() int64 {
	var n int64
	for _, node := range slices.Concat(sides()) {
		n += c.net.NodeStats(node).Out.Delivered
	}
	return n
}
