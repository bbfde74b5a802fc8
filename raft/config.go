package raft

import (
	"fmt"
	"slices"
)

// Defaults for the zero fields of a Config.
const (
	DefaultElectionTick           = 10
	DefaultHeartbeatTick          = 1
	DefaultMaxInflight            = 256
	DefaultMaxMsgBytes            = 1 << 20
	DefaultMaxUncommittedEntries  = 1 << 14
	DefaultMaxCommittedBytesReady = 4 << 20
)

// Config says who a server is, who its peers are, and how it behaves. The
// zero value of every optional field means its default.
type Config struct {
	// ID is this server's ID, which must not be None (0). Required.
	ID uint64
	// Peers lists every server of the cluster by ID, this one included.
	// The cluster is fixed: membership changes are out of scope. Required.
	Peers []uint64
	// Storage is the server's log and hard state; Raft reads it, the
	// caller writes it (see Ready). On a restart it holds what the server
	// saved before. Required.
	Storage Storage

	// ElectionTick is the election timeout, in ticks: a follower that
	// hears nothing from a leader for a random number of ticks in
	// [ElectionTick, 2*ElectionTick) starts an election. Default 10.
	ElectionTick int
	// HeartbeatTick is how often, in ticks, a leader sends heartbeats. It
	// must be less than ElectionTick. Default 1.
	HeartbeatTick int
	// Seed seeds the random election timeouts (with ID, so that servers
	// given the same seed still draw different timeouts). The same seed,
	// ticks and messages give the same run.
	Seed int64

	// PreVote makes a server that times out first ask whether it could
	// win an election before it starts one, so that a server coming back
	// from a partition does not force the cluster into a new term.
	PreVote bool
	// CheckQuorum makes a leader step down when it has not heard from a
	// majority within an election timeout, and makes followers that hear
	// from a leader ignore RequestVotes within an election timeout.
	CheckQuorum bool

	// MaxInflight is how many AppendEntries a leader may have in flight to
	// one follower before it waits for replies (pipelining). Default 256.
	MaxInflight int
	// MaxMsgBytes bounds the entry data of one AppendEntries (a message
	// still carries at least one entry). Default 1 MiB.
	MaxMsgBytes uint64
	// MaxUncommittedEntries is how many entries a leader holds that are
	// not yet committed before Propose refuses more (ErrProposalDropped),
	// so that a leader cut off from its followers does not grow without
	// bound. Default 16384.
	MaxUncommittedEntries int
	// MaxCommittedBytesPerReady bounds the data of the committed entries
	// in one Ready (always at least one entry). Default 4 MiB.
	MaxCommittedBytesPerReady uint64
	// Applied is the index the application has already applied, on a
	// restart; Ready delivers only later entries. Entries the storage's
	// snapshot covers count as applied.
	Applied uint64
}

// withDefaults returns c with its zero fields set to their defaults, and
// an error wrapping ErrInvalidConfig if c cannot work.
func (c Config) withDefaults() (Config, error) {
	if c.ElectionTick == 0 {
		c.ElectionTick = DefaultElectionTick
	}
	if c.HeartbeatTick == 0 {
		c.HeartbeatTick = DefaultHeartbeatTick
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = DefaultMaxInflight
	}
	if c.MaxMsgBytes == 0 {
		c.MaxMsgBytes = DefaultMaxMsgBytes
	}
	if c.MaxUncommittedEntries == 0 {
		c.MaxUncommittedEntries = DefaultMaxUncommittedEntries
	}
	if c.MaxCommittedBytesPerReady == 0 {
		c.MaxCommittedBytesPerReady = DefaultMaxCommittedBytesReady
	}
	bad := func(format string, args ...any) (Config, error) {
		return c, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.ID == None:
		return bad("ID must not be None (0)")
	case c.Storage == nil:
		return bad("Storage is required")
	case !slices.Contains(c.Peers, c.ID):
		return bad("Peers %v do not include ID %d", c.Peers, c.ID)
	case slices.Contains(c.Peers, None):
		return bad("Peers %v include None (0)", c.Peers)
	case c.ElectionTick < 0 || c.HeartbeatTick < 0:
		return bad("negative ElectionTick %d or HeartbeatTick %d", c.ElectionTick, c.HeartbeatTick)
	case c.HeartbeatTick >= c.ElectionTick:
		return bad("HeartbeatTick %d is not less than ElectionTick %d", c.HeartbeatTick, c.ElectionTick)
	case c.MaxInflight < 0 || c.MaxUncommittedEntries < 0:
		return bad("negative MaxInflight %d or MaxUncommittedEntries %d", c.MaxInflight, c.MaxUncommittedEntries)
	}
	sorted := slices.Sorted(slices.Values(c.Peers))
	if len(slices.Compact(sorted)) != len(c.Peers) {
		return bad("Peers %v list a server twice", c.Peers)
	}
	c.Peers = sorted
	return c, nil
}
