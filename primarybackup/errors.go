package primarybackup

import "errors"

// ErrNotReplicated is what a Primary in synchronous mode answers to a write
// it could not copy to the backup in time: the write did not happen.
// Declare it on both sides with rpc.WithErrors, so that errors.Is works on
// the client.
var ErrNotReplicated = errors.New("primarybackup: the backup did not confirm the write in time: write refused")
