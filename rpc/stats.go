package rpc

import "sync/atomic"

// Stats counts what a client or a server has done, like labrpc's counters:
// enough to see how many messages a protocol costs, or to check that a
// test's faults really happened.
type Stats struct {
	// Calls is, for a client, the calls started; for a server, the
	// requests received, duplicates included.
	Calls int64
	// Errors is, for a client, the calls that returned an error; for a
	// server, the replies that carried one.
	Errors int64
	// Retries (client) counts requests sent again because no reply came
	// in time or the connection was lost. The resend that follows a
	// server's epoch answer (see WithRetry) is not counted.
	Retries int64
	// Duplicates (server) counts requests answered from the reply cache
	// without running the handler again.
	Duplicates int64
	// BytesSent and BytesReceived count message bytes, headers included.
	BytesSent     int64
	BytesReceived int64
}

// counters is the live, concurrently updated form of Stats.
type counters struct {
	calls, errors, retries, duplicates atomic.Int64
	sent, received                     atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Calls:         c.calls.Load(),
		Errors:        c.errors.Load(),
		Retries:       c.retries.Load(),
		Duplicates:    c.duplicates.Load(),
		BytesSent:     c.sent.Load(),
		BytesReceived: c.received.Load(),
	}
}
