// Package wal is durable storage for raft: a raft.Storage kept in a
// directory as a write-ahead log and a snapshot file, that survives a
// crash of the process or of the machine.
//
// # What it promises
//
// When Save or SaveSnapshot returns nil, what it was given is on stable
// storage: a crash at any later moment, even a power cut, loses none of
// it. A crash while a call is running keeps all of that call or none of
// it. That is the promise Raft needs (Figure 2: "updated on stable storage
// before responding to RPCs"): a server that voted, or acknowledged
// entries, must still remember doing so after a restart, or it could vote
// twice in one term, or let a leader count entries it has lost.
//
// # Why fsync, and why in this order
//
// write(2) puts bytes in the kernel's page cache, not on the disk; the
// kernel writes them back when it likes, in the order it likes. A process
// crash loses nothing that write returned for, but a power cut loses
// whatever was not yet written back, and may keep a later write while
// losing an earlier one. fsync(2) on a file returns only when the file's
// data are on the disk. A file's name is separate: it is an entry in its
// directory, and creating, renaming or deleting a file is durable only
// once the directory itself is fsynced. So every durable step here is
// "write, then fsync", and a new name is used only after "fsync the
// directory":
//
//   - Save appends one record and fsyncs the segment before it returns:
//     one fsync per call, however many entries, so a driver that saves a
//     whole Ready batch at once pays for one fsync per batch.
//   - A new segment's name is made durable (directory fsync) before any
//     Save that writes to it returns.
//   - SaveSnapshot writes the snapshot to a temporary file, fsyncs it,
//     renames it to its real name and fsyncs the directory; then it
//     appends a record saying "the snapshot at index I is in force" and
//     fsyncs; only then does it delete what the snapshot replaces. Each
//     deletion is followed by a directory fsync, oldest segment first, so
//     the segments left behind are always consecutive. Were the rename
//     not fsynced, a crash could leave the record pointing at a file that
//     does not exist; were segments deleted first, a crash could lose
//     entries that no snapshot stands for yet.
//
// The tests check this order from the operations recorded by an in-memory
// file system that can crash and keeps, of what was not fsynced, only
// what the POSIX rules promise (internal/vfs).
//
// # Files
//
// The directory holds segments 0000000000000001.wal, 0000000000000002.wal,
// …, appended to in turn (a new one is started when the last grows past
// the segment size), and the newest snapshot, named by its index,
// 00000000000004d2.snap. Open takes an exclusive lock on the directory,
// so two servers cannot both write it.
//
// Every segment is a sequence of records, and a snapshot file is one
// record:
//
//	0        4        8      9
//	+--------+--------+------+--------------------------+
//	| length | crc    | type | payload (length bytes)   |
//	+--------+--------+------+--------------------------+
//	length: uint32, little-endian, the payload's size
//	crc:    CRC-32C (Castagnoli) of length, type and payload
//
//	type 1, a Save (a batch):
//	  hard state: term, votedFor, commit (8 bytes each; all zero: unchanged)
//	  first index (8), count (4), then count times:
//	    term (8) | entry type (1) | data length (4) | data
//	type 2, a SaveSnapshot: index (8) | term (8) | the log's last index after it (8)
//	type 3, a snapshot file: index (8) | term (8) | the state machine's data
//
// The checksum covers the length too, so a damaged length is caught
// rather than followed to a wrong offset. A whole Save is one record, so a
// crash keeps it whole or not at all. Entries carry their index, so an
// entry that replaces a conflicting suffix (§5.3) says so in the log
// itself, and replay discards the suffix just as Save did.
//
// # Recovery
//
// Open replays the segments in order, starting from the snapshot that the
// newest snapshot record names, and skipping the entries it covers. The
// rules for damage:
//
//   - A record at the end of the last segment that is cut short or fails
//     its checksum, with no valid record anywhere after it, is the torn
//     tail of a write a crash interrupted. Its Save never returned (Save
//     fsyncs first), so nobody was promised it: it is cut away, the cut is
//     fsynced, and the cut is logged.
//   - Any other damage (a bad record in an older segment, a bad record
//     followed by valid ones, a missing segment, a snapshot file that is
//     missing or fails its checksum) cannot be left by a crash of this
//     code on a disk that keeps its promises. Data after it was
//     acknowledged, so Open refuses with an error matching ErrCorrupt that
//     names the file and offset, and changes nothing.
//   - A snapshot file that no record names yet is what a crash between
//     its rename and its record leaves; older snapshot files and
//     temporary files are what a crash before the deletions leaves. They
//     are deleted.
//
// What recovery cannot tell apart: damage to the very last record looks
// like a torn write, and is cut. A disk that corrupts data silently can
// always defeat a log; the checksums make sure it is noticed everywhere
// else.
//
// # Use
//
//	s, err := wal.Open("/var/lib/node1/raft")
//	if err != nil { … }                // ErrCorrupt, ErrLocked, I/O errors
//	defer s.Close()
//	hs, _ := s.InitialState()          // the state before the crash
//	…
//	for {                              // the driver's loop
//		hs, ents, msgs := next()       // a batch from the raft core
//		if err := s.Save(hs, ents); err != nil { … }
//		send(msgs)                     // only after Save returned
//	}
package wal
