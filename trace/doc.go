// Package trace shows what happened in a distributed run: which event could
// have influenced which, drawn as a space-time diagram.
//
// # Happens-before
//
// Processes of a distributed system share no clock, so "e happened before
// f" cannot mean "e's timestamp is smaller". Lamport (1978) defined it by
// what could have carried information: e happens before f (e -> f) when
//
//   - e and f are events of the same process and e comes first, or
//   - e is the send of a message and f its receipt, or
//   - e -> g and g -> f for some event g (the relation is transitive).
//
// Two events neither of which happens before the other are concurrent
// (e || f): no chain of messages joins them, so neither could know about
// the other, whatever the wall clocks said. A space-time diagram shows it,
// one line per process, time flowing down:
//
//	a             b             c
//	|             |             |
//	a1            |             c1
//	a2 -------->  b1            |
//	|             b2 -------->  c2
//	a3  <---------|-----------  c3
//	|             b3            |
//
// Here a1 -> b1 (a message), a1 -> c3 (a chain: a1, a2, b1, b2, c2, c3),
// and c1 -> a3; but a1 || c1, and b3 || c3: b3 comes after b2, and c3 after
// c2, yet nothing b did after b2 reached c, nor anything c did after c2
// reached b.
//
// # Clocks
//
// A LamportClock gives every event a number such that e -> f implies
// L(e) < L(f). That is enough for a total order that respects causality (as
// Ricart–Agrawala mutual exclusion needs), but the converse fails: from
// L(e) < L(f) alone one cannot tell whether e -> f or e || f.
//
// A VectorClock keeps one counter per process and captures happens-before
// exactly: e -> f if and only if VC(e) < VC(f), entry by entry, with one
// entry strictly smaller. In the diagram above, a1 is {a:1}, c1 is {c:1}
// (neither below the other: concurrent) and a3 is {a:3, b:2, c:3}, above
// both. Each process ticks its own entry at every event, stamps its clock
// on every message it sends, and on a receive takes the element-wise
// maximum (Merge) of its clock and the stamp before ticking.
//
// # Tracing a run
//
// A Recorder does the bookkeeping. Name each process with Recorder.Node
// and wrap its conns with Node.Wrap (or its listener and dialer with
// WrapListener and WrapDialer): every message then carries its sender's
// vector clock in a small header in front of the payload, and every send
// and receive is recorded, with nothing changed in the code that uses the
// conns. Both ends of a conn must be wrapped, since the header is on the
// wire; a message without one fails Recv with ErrNotTraced, a damaged one
// with ErrBadHeader, and neither breaks the conn. Node.Log records local
// events ("became leader"). ContextWithLabel names a message, and so its
// arrow in the diagram.
//
// Package tracerpc traces rpc calls instead of raw messages, so that arrows
// carry method names.
//
// # What went wrong
//
// A traced conn sees what the program sends and receives; it cannot see
// what happens in between. A network that reports what it does (netsim,
// through package tracesim) fills that in, through Recorder.Transmitted,
// Arrived and Dropped, which find the stamp inside any message that
// carries one (a traced conn's, or an rpc call's, where tracerpc puts it in
// the metadata):
//
//   - a copy the network lost is a drop, with the reason ("partition");
//   - the same message sent again is a resend: an rpc client's retry, or a
//     server answering a duplicate from its reply cache;
//   - a copy that reaches a node which had one already is a duplicate,
//     drawn as an extra arrow if the program did not take it;
//   - a crash and a restart are events of the node (Node.Crashed,
//     Node.Restarted), and partitions, heals and new faults are marks
//     across the whole diagram (Recorder.Mark).
//
// A program records its own deliberate losses with Node.Discard (a chat
// server dropping messages for a slow reader). Without a reporting network
// a lost message is a send with no receive: the diagram marks it "never
// received", which may also mean it was still in flight when the trace was
// written.
//
// # Output
//
// One recording renders three ways, all from the same events:
//
//   - WriteHTML (and Recorder.WriteHTML): a self-contained HTML page with
//     an SVG space-time diagram, which opens in any browser with no server
//     and no network. It has a causal view (rows by happens-before) and a
//     timed view (in proportion to time, so that a partition lines up with
//     the messages it cuts), groups and orders the nodes (client-1,
//     client-2, ... under one header), keeps labels from overlapping, fits
//     a 1400-pixel projector, hides routine messages (heartbeats, polls;
//     WithRoutine) until asked, and says how many events WithMaxEvents left
//     out. Hovering shows each event's details;
//   - WriteShiViz: a log for ShiViz, with its parsing regular expression
//     (ShiVizRegexp) on the first line; only events of processes are in it,
//     so that each node's clock counts up by one from 1, as ShiViz wants;
//   - WriteJSON: JSON lines, one event each, which ReadJSON reads back.
//
// Recorder.WriteFiles writes all three to a directory, and
// Recorder.WriteOnFailure does so for a test that fails, in a directory
// named after the test and its seed. When the nodes run in separate
// processes, each with its own Recorder, MergeTraces joins their traces
// (read back with ReadJSON) into one diagram.
//
// # Walkthrough
//
//	rec := trace.NewRecorder(trace.WithTitle("echo"))
//	client, server := rec.Node("client"), rec.Node("server")
//
//	l := server.WrapListener(lis) // every conn it accepts is traced
//	go serveEcho(l)               // the server's code, unchanged
//	c, _ := client.WrapDialer(dialer).Dial(ctx, addr)
//
//	c.Send(trace.ContextWithLabel(ctx, "Echo"), []byte("hello"))
//	... the server echoes it ...
//	reply, _ := c.Recv(ctx)
//	client.Log("got the echo")
//
//	rec.WriteFiles("trace-out") // trace.html, trace.shiviz.log, trace.jsonl
//
// In a test, rec.WriteOnFailure(t, seed) keeps the files of a failed run.
package trace
