// Package primarybackup is a key-value store replicated on two servers: a
// primary that clients write to, and a backup that holds a copy and serves
// reads. It is small on purpose, to show what every replicated system
// must decide when the network splits: acknowledge writes the backup may
// never see (available, and reads at the backup go stale), or refuse
// them (consistent, and nobody can write). Config.Sync picks.
//
//	client ──Put, Get──▶ Primary ──Backup.Apply (whole table)──▶ Backup ◀──Get── client
//
// # The model
//
// The primary holds a table (keys to values) numbered by Seq, which grows
// with every write. It copies the whole table to the backup: after each
// write (asynchronous mode: in the background; synchronous mode: before
// the write is acknowledged), and every two copy timeouts as a heartbeat.
// The backup keeps the highest-numbered table it has received, so copies
// that arrive late, twice or out of order change nothing; it answers each
// copy with the Seq it now has, which is how the primary learns that a
// restarted backup has lost everything. (A real system ships a log of
// changes; with a handful of keys the whole table is simpler and just as
// correct.)
//
// # What is guaranteed
//
//   - Asynchronous mode: every write is acknowledged at once and kept by
//     the primary. The backup has it once a copy gets through; until
//     then a read at the backup returns an older value (stale). Once the
//     network heals, the next copy brings the backup up to date.
//   - Synchronous mode: a write is acknowledged only once the backup has
//     confirmed it, so a read at the backup never returns a value older
//     than the last acknowledged write. A write the backup did not confirm
//     in time fails with ErrNotReplicated and is not kept (the primary
//     numbers its own table above it and sends that, so a backup that
//     got the refused table after all takes it back).
//   - Neither mode survives a crash of the primary: its table is in
//     memory. A backup that crashes loses its copy and is refilled by the
//     next heartbeat.
//
// # Walkthrough
//
//	b := &primarybackup.Backup{}
//	backupSrv := rpc.NewServer()
//	backupSrv.Register(b)                                 // "Backup.Apply", "Backup.Get"
//	go backupSrv.Serve(backupListener)
//
//	toBackup, _ := rpc.Dial(ctx, backupAddr, rpc.WithRetry(rpc.RetryPolicy{}))
//	p := primarybackup.NewPrimary(toBackup, primarybackup.Config{Sync: true})
//	defer p.Close()
//	primarySrv := rpc.NewServer(rpc.WithErrors(primarybackup.ErrNotReplicated))
//	primarySrv.Register(p)                                // "Primary.Put", "Primary.Get"
//	go primarySrv.Serve(primaryListener)
//
//	c.Call(ctx, "Primary.Put", &primarybackup.PutArgs{Key: "x", Value: "1"}, nil)
//	c.Call(ctx, "Backup.Get", &key, &reply)              // reply.Value == "1"
package primarybackup
