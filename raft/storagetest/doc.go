// Package storagetest is the contract test suite for raft.Storage: every
// implementation (raft.MemoryStorage, the write-ahead log in raft/wal)
// runs it from its own tests, so they all behave as the protocol core
// expects.
//
//	func TestStorageContract(t *testing.T) {
//		storagetest.RunStorageTests(t, func(t *testing.T) raft.Storage {
//			return raft.NewMemoryStorage()
//		})
//	}
//
// The suite checks what the raft.Storage documentation promises, and only
// that: reads of an empty log; entries, terms and the hard state read back
// as saved; byte limits; a conflicting suffix replaced; gaps refused; the
// snapshot rules of Figure 13 (keep the entries after a snapshot that
// matches the log, else discard the log); old snapshots refused; slices
// handed out never changed by later writes; and concurrent readers during
// writes (run it with -race). Durability across a restart is the
// implementation's own to test: the suite cannot reopen a storage.
package storagetest
