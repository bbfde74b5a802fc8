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
	cli.ReplicaStatus
	LockCount int          `json:"lock_count"` // locks held or waited for, as this replica has applied the log
	Held      int          `json:"locks_held"`
	Waiting   int          `json:"waiters"` // acquisitions queued, over every lock
	Locks     []lockStatus `json:"locks"`   // the first 100, by name
}

type lockStatus struct {
	Name    string    `json:"name"`
	Holder  string    `json:"holder,omitempty"`
	Token   uint64    `json:"token,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	Waiters []string  `json:"waiters,omitempty"`
}

// statusOf adds srv's lock table to its common status. A follower's
// table may lag the leader's by the entries it has yet to apply.
func statusOf(srv *lock.RaftServer, common cli.ReplicaStatus) any {
	locks := srv.Locks()
	st := status{ReplicaStatus: common, LockCount: len(locks), Locks: []lockStatus{}}
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
