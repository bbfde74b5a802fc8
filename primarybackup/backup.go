package primarybackup

import (
	"maps"
	"sync"
)

// Table is a replica's copy of the store. Seq numbers the tables the
// primary sends: it only grows, and the backup keeps the highest it has
// seen, so a late or duplicated copy of an older table changes nothing.
// (A real system sends a log of changes rather than the whole table; with
// a handful of keys, the whole table is simpler and just as correct.)
type Table struct {
	Seq    int64
	Values map[string]string
}

// clone returns a copy of t that shares nothing with it.
func (t Table) clone() Table {
	return Table{Seq: t.Seq, Values: maps.Clone(t.Values)}
}

// PutArgs asks the primary to set Key to Value.
type PutArgs struct {
	Key, Value string
}

// GetReply is a replica's answer to a read: the value, whether the key
// exists, and the Seq of the table it was read from (use Same to compare
// two answers' values).
type GetReply struct {
	Value string
	Found bool
	Seq   int64
}

// Same reports whether r and o say the same of their key: both absent, or
// both the same value, whatever tables they were read from.
func (r GetReply) Same(o GetReply) bool { return r.Found == o.Found && r.Value == o.Value }

// get reads key from t.
func (t Table) get(key string) GetReply {
	v, ok := t.Values[key]
	return GetReply{Value: v, Found: ok, Seq: t.Seq}
}

// Backup is the backup replica, an rpc service ("Backup.Apply",
// "Backup.Get"): it keeps the newest table the primary sent, and serves
// reads from it, however old. Its memory is all it has: a backup that
// restarts starts empty, and the primary's next copy refills it.
//
// The zero value is an empty backup, ready to use. A Backup is safe for
// concurrent use, as rpc handlers must be.
type Backup struct {
	mu    sync.Mutex // protects table
	table Table
}

// Apply installs t if it is newer than the backup's table, and replies with
// the Seq of the table the backup now has. A late or repeated copy of an
// older table changes nothing.
func (b *Backup) Apply(t *Table, seq *int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.Seq > b.table.Seq {
		b.table = t.clone()
	}
	*seq = b.table.Seq
	return nil
}

// Get reads key from the backup's table, however old it is.
func (b *Backup) Get(key *string, reply *GetReply) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	*reply = b.table.get(*key)
	return nil
}
