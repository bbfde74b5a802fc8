package main

import (
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/lock"
)

// maxLocksShown bounds the locks the status lists, however many clients
// have made.
const maxLocksShown = 100

// status is the JSON of GET /status.
type status struct {
	cli.Status
	cli.RaftStatus
	Conns     int64         `json:"conns"`          // client connections open now
	Accepted  int64         `json:"conns_accepted"` // since the start
	Replica   replicaStatus `json:"replica"`
	LockCount int           `json:"lock_count"` // locks held or waited for, as this replica has applied the log
	Held      int           `json:"locks_held"`
	Waiting   int           `json:"waiters"` // acquisitions queued, over every lock
	Locks     []lockStatus  `json:"locks"`   // the first 100, by name
}

// replicaStatus is the replica's rsm.Stats.
type replicaStatus struct {
	Applied    uint64 `json:"applied"`    // commands applied to the table
	Duplicates uint64 `json:"duplicates"` // commands skipped as resent copies
	Queries    uint64 `json:"queries"`    // reads through the log
	Snapshots  uint64 `json:"snapshots"`  // snapshots taken
	Restores   uint64 `json:"restores"`   // snapshots installed
}

type lockStatus struct {
	Name    string    `json:"name"`
	Holder  string    `json:"holder,omitempty"`
	Token   uint64    `json:"token,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	Waiters []string  `json:"waiters,omitempty"`
}

// statusOf makes the status of srv, which serves clients on l. A
// follower's table may lag the leader's by the entries it has yet to
// apply.
func statusOf(base cli.Status, srv *lock.RaftServer, l *cli.CountingListener) status {
	s := srv.RSM().Stats()
	locks := srv.Locks()
	st := status{
		Status:     base.Up(time.Now()),
		RaftStatus: cli.RaftStatusOf(srv.RSM().Node()),
		Conns:      l.Open(),
		Accepted:   l.Accepted(),
		Replica:    replicaStatus{s.Applied, s.Duplicates, s.Queries, s.Snapshots, s.Restores},
		LockCount:  len(locks),
		Locks:      []lockStatus{},
	}
	for i, li := range locks {
		if li.Holder != "" {
			st.Held++
		}
		st.Waiting += len(li.Waiters)
		if i < maxLocksShown {
			st.Locks = append(st.Locks, lockStatus{Name: li.Name, Holder: li.Holder, Token: li.Token, Since: li.Since, Waiters: li.Waiters})
		}
	}
	return st
}
