package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// txlog is the coordinator's log: one line per record, "T3 commit",
// appended and synced to disk (fsync) before the coordinator acts on it.
// It is a file, so it survives a crash of the coordinator's process; the
// coordinator's memory does not.
//
// The records of a transaction, in order: begin; then commit or abort,
// the decision (once commit is on disk, the transaction commits, whatever
// crashes: the commit point); then end, once every participant has
// acknowledged the decision.
type txlog struct {
	f *os.File
}

// record is one line of the log.
type record struct {
	tx, what string
}

// openLog opens the log at path for appending, creating it if need be.
func openLog(path string) (*txlog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	return &txlog{f: f}, nil
}

// append writes a record and waits until it is on disk.
func (l *txlog) append(tx, what string) error {
	if _, err := fmt.Fprintf(l.f, "%s %s\n", tx, what); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	return nil
}

// close closes the log file.
func (l *txlog) close() error { return l.f.Close() }

// readLog returns the records of the log at path, in order.
func readLog(path string) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		tx, what, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			return nil, fmt.Errorf("log %s: bad record %q", path, sc.Text())
		}
		rs = append(rs, record{tx, what})
	}
	return rs, sc.Err()
}

// txState is what the log says of one transaction.
type txState struct {
	decision string // "commit", "abort", or "" before the decision
	ended    bool   // every participant has acknowledged the decision
}

// states returns what rs say of each transaction, and the transactions in
// the order they began.
func states(rs []record) (map[string]*txState, []string) {
	st := map[string]*txState{}
	var order []string
	for _, r := range rs {
		s, ok := st[r.tx]
		if !ok {
			s = &txState{}
			st[r.tx] = s
			order = append(order, r.tx)
		}
		switch r.what {
		case "commit", "abort":
			s.decision = r.what
		case "end":
			s.ended = true
		}
	}
	return st, order
}
