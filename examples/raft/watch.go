package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/distsys-kit/distsys/raft"
)

// watcher narrates the elections of the live demo as they happen, from
// what the servers report (their Status): who stands for election in
// which term, who wins it and with whose votes, and which leader steps
// down, and why.
type watcher struct {
	c       *cluster
	out     io.Writer
	seen    map[uint64]raft.Status // what each running server reported last
	leaders map[uint64]uint64      // term -> its leader, as seen
	behind  map[uint64]uint64      // server -> the older term it was left in
}

// run looks at the servers every interval until ctx ends.
func (w *watcher) run(ctx context.Context, interval time.Duration) {
	w.seen, w.leaders, w.behind = make(map[uint64]raft.Status), make(map[uint64]uint64), make(map[uint64]uint64)
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			w.look()
		}
	}
}

// look compares what the servers report now with what they reported last
// time, and narrates what changed.
func (w *watcher) look() {
	now := make(map[uint64]raft.Status)
	for _, id := range w.c.ids() {
		if node := w.c.node(id); node != nil {
			now[id] = node.Status().Status
		}
	}
	for _, id := range slices.Sorted(maps.Keys(now)) {
		st := now[id]
		old, had := w.seen[id]
		if !had {
			continue // just started: react has said so
		}
		switch {
		case st.State == raft.Candidate && (old.State != raft.Candidate || old.Term != st.Term):
			fmt.Fprintf(w.out, "%s heard from no leader for an election timeout: it stands for term %d and asks the others for their votes.\n", name(id), st.Term)
		case st.State == raft.Leader && (old.State != raft.Leader || old.Term != st.Term):
			var voters []uint64
			for _, v := range slices.Sorted(maps.Keys(now)) {
				if now[v].Term == st.Term && now[v].VotedFor == id {
					voters = append(voters, v)
				}
			}
			fmt.Fprintf(w.out, "%s won the election of term %d with the votes of %s, a majority: it leads.\n", name(id), st.Term, names(voters))
		case old.State == raft.Leader && st.State != raft.Leader && st.Term == old.Term:
			fmt.Fprintf(w.out, "%s stepped down in term %d: it has not heard from a majority for an election timeout (CheckQuorum).\n", name(id), st.Term)
		case old.State == raft.Leader && st.State != raft.Leader:
			follows := ""
			if st.Leader != raft.None {
				follows = ", and follows " + name(st.Leader)
			}
			fmt.Fprintf(w.out, "%s, leader of term %d, heard of term %d: it steps down%s.\n", name(id), old.Term, st.Term, follows)
		case w.behind[id] != 0 && st.State == raft.Follower && st.Leader != raft.None && w.leaders[st.Term] == st.Leader:
			fmt.Fprintf(w.out, "%s, left behind in term %d, hears from %s, leader of term %d: it follows it, and the leader brings its log in line with its own.\n",
				name(id), w.behind[id], name(st.Leader), st.Term)
			delete(w.behind, id)
		}
	}
	w.remember(now)
}

// remember notes the leaders of now, and the servers left behind in an
// older term than the newest leader's: cut off, or down, while it was
// elected. look narrates when they follow it.
func (w *watcher) remember(now map[uint64]raft.Status) {
	var top uint64
	for id, st := range now {
		if st.State == raft.Leader {
			w.leaders[st.Term] = id
		}
		top = max(top, st.Term)
	}
	for id, st := range now {
		if _, had := w.seen[id]; !had {
			delete(w.behind, id)
		}
		if st.Term < top && w.leaders[top] != 0 && w.behind[id] == 0 {
			w.behind[id] = st.Term
		}
	}
	w.seen = now
}
