// Package vfs is the file-system seam of the packages whose promises rest
// on what survives a crash: lock's token high-water mark and raft's
// write-ahead log and snapshots.
//
// Durable storage is where "tests must be able to fail" is hardest. A
// program that forgets an fsync, or writes a file in place instead of
// writing a temporary file and renaming it, passes every test on a real
// disk, because a real disk almost never loses power during a test. So the
// code that writes state takes an FS, and tests give it a Mem: an
// in-memory file system that
//
//   - records every operation in order (Ops), so a test can assert that
//     the data was synced before the rename and the directory synced after
//     it;
//   - can crash (Crash): what was not made durable is lost, exactly as the
//     POSIX rules allow a power cut to lose it;
//   - can fail any operation on demand (SetFault), to test error paths.
//
// The crash model is the strict one. A file's bytes are durable once the
// file is synced (File.Sync); a directory entry (a created, renamed or
// removed name) is durable once its directory is synced (FS.SyncDir).
// Writes since the last sync are kept, after a crash, as a prefix of
// themselves in the order they were made, and the last write kept may be
// torn (only part of it reached the disk): how much is kept is decided by
// the seed given to Crash, so a failing crash test replays. Real file
// systems can be kinder (ext4 orders data before renames by default), never
// harsher in the ways this model leaves out: code correct here is correct
// on a file system that keeps the POSIX promises.
//
// OS is the real file system. WriteFileAtomic is the write-to-temporary,
// sync, rename, sync-directory sequence that replaces a small file so that
// a crash leaves either the old contents or the new, never a mix.
//
// Lock takes an exclusive lock on a directory, so two servers started on
// the same state directory cannot both run: on the real file system it is
// flock(2), advisory, and released when the process exits.
package vfs
