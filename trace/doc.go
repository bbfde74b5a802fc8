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
// carry method names. Package tracesim hands the messages a simulated
// network (netsim) drops to Recorder.Dropped, so that the diagram marks
// them dropped, with the reason.
//
// What a trace shows is what the Recorder saw. A message dropped below a
// traced conn (by a FaultyConn, or a real network) is a send with no
// receive: the diagram marks it "never received", which may also mean it
// was still in flight when the trace was written. Only a network that
// reports its drops (netsim) lets the diagram say "dropped".
//
// # Output
//
// One recording renders three ways, all from the same events:
//
//   - WriteHTML: a self-contained HTML page with an SVG space-time diagram
//     (arrows for messages, crosses for lost ones, method names on arrows,
//     details on hover), which opens in any browser with no server and no
//     network;
//   - WriteShiViz: a log for ShiViz, with its parsing regular expression
//     (ShiVizRegexp) on the first line;
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
