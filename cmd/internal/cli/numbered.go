package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNoNumbered is the error Numbered returns, wrapped, when the cluster
// has no entry prefix1, prefix2, ...: a program for which those entries are
// optional checks for it with errors.Is and still reports malformed ones.
var ErrNoNumbered = errors.New("no numbered peers")

// Numbered returns the peers of c whose ID is prefix followed by a
// number, by that number: "raft1", "raft2" and "raft3" with prefix "raft"
// give the addresses of raft servers 1, 2 and 3. Raft names its servers by
// number; the prefix lets one cluster file name several services of the
// same machines ("kv1" for the clients of a replica, "raft1" for its
// peers) beside entries of other programs, which are ignored, as is an
// entry named prefix alone: "lock", lockserver's entry, is not one of
// lockraftserver's replicas "lock1", "lock2", ....
//
// An entry that starts with prefix but goes on with something other than
// a number from 1 up ("raftx", "raft0") is an error, as are two entries
// for one number ("raft1", "raft01"), and no entry at all, which is
// ErrNoNumbered wrapped.
func (c Cluster) Numbered(prefix string) (map[uint64]string, error) {
	out := map[uint64]string{}
	for _, p := range c.Peers {
		rest, ok := strings.CutPrefix(p.ID, prefix)
		if !ok || rest == "" {
			continue
		}
		n, err := strconv.ParseUint(rest, 10, 64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("peer %q: after %q comes a number from 1 up", p.ID, prefix)
		}
		if _, dup := out[n]; dup {
			return nil, fmt.Errorf("peer %q: number %d is already in the cluster", p.ID, n)
		}
		out[n] = p.Addr
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no peer %s1, %s2, ... in the cluster", ErrNoNumbered, prefix, prefix)
	}
	return out, nil
}

// ParsePeerList parses a comma-separated list of id=host:port, the form a
// -peers flag takes ("raft1=10.0.0.1:7001,raft2=10.0.0.2:7001"), with the
// rules of a cluster file.
func ParsePeerList(list string) (Cluster, error) {
	return ParseCluster("-peers", strings.NewReader(strings.ReplaceAll(list, ",", "\n")))
}
