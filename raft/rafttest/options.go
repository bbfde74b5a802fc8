package rafttest

import "time"

// Option configures a Cluster (New).
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	start            StartFunc
	unreliable       bool
	snapshotInterval uint64
	wal              bool
	loseUnsynced     bool
	traceEvents      int
	checkEvery       time.Duration
}

// Defaults of the options.
const (
	// DefaultTraceEvents is how many events the space-time diagram of a
	// failed test keeps: the first ones of the run.
	DefaultTraceEvents = 20000
	// DefaultCheckEvery is how often, in virtual time, the harness asks
	// every server for its state to check Election Safety and Leader
	// Completeness between the test's own checks.
	DefaultCheckEvery = 50 * time.Millisecond
	// SnapshotInterval is MIT's: with WithSnapshots, each server's
	// application snapshots after every 10 applied commands.
	SnapshotInterval = 10
)

// WithServer makes the cluster run servers made by start instead of the
// library's raft.Node (StartNode()): a student's own Raft, for instance.
func WithServer(start StartFunc) Option {
	return optionFunc(func(o *options) { o.start = start })
}

// WithUnreliable starts the cluster on an unreliable network, as
// SetReliable(false) makes it.
func WithUnreliable() Option {
	return optionFunc(func(o *options) { o.unreliable = true })
}

// WithSnapshots makes each server's application (the harness) snapshot
// its state every interval applied commands (SnapshotInterval in MIT's
// 3D tests), which lets the servers discard their logs and makes
// followers that fall behind install snapshots.
func WithSnapshots(interval int) Option {
	return optionFunc(func(o *options) { o.snapshotInterval = uint64(max(interval, 0)) })
}

// WithWAL gives each server a raft/wal Storage on an in-memory file
// system instead of a raft.MemoryStorage. With loseUnsynced, every crash
// also crashes the server's file system, losing (and tearing) whatever
// was written and not yet synced, as a power cut does.
func WithWAL(loseUnsynced bool) Option {
	return optionFunc(func(o *options) { o.wal, o.loseUnsynced = true, loseUnsynced })
}

// WithTraceEvents bounds the space-time diagram written when a test fails
// to its first n events (DefaultTraceEvents); n < 0 turns tracing off.
func WithTraceEvents(n int) Option {
	return optionFunc(func(o *options) { o.traceEvents = n })
}

// WithCheckEvery sets how often the harness asks every server for its
// state (DefaultCheckEvery).
func WithCheckEvery(d time.Duration) Option {
	return optionFunc(func(o *options) { o.checkEvery = d })
}
