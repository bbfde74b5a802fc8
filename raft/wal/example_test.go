package wal_test

import (
	"fmt"
	"log"
	"math"
	"os"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
)

// A server saves its vote and two entries; after a restart (here: Close
// and Open again) they are all there.
func Example() {
	dir, err := os.MkdirTemp("", "wal-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := wal.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	err = s.Save(raft.HardState{Term: 2, VotedFor: 1, Commit: 1}, []raft.Entry{
		{Index: 1, Term: 2, Type: raft.EntryNoop},
		{Index: 2, Term: 2, Data: []byte("x=1")},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Save has fsynced: only now may the server tell anyone it voted, or
	// acknowledge the entries.
	s.Close()

	s, err = wal.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	hs, _ := s.InitialState()
	fmt.Printf("term %d, voted for %d, commit %d\n", hs.Term, hs.VotedFor, hs.Commit)
	last, _ := s.LastIndex()
	ents, _ := s.Entries(1, last+1, math.MaxUint64)
	for _, e := range ents {
		fmt.Printf("entry %d of term %d: %q\n", e.Index, e.Term, e.Data)
	}
	// Output:
	// term 2, voted for 1, commit 1
	// entry 1 of term 2: ""
	// entry 2 of term 2: "x=1"
}
