// Package dashboard shows a simulated network (package netsim) live in a
// browser, and lets whoever watches change it: a lecture's instructor
// partitions the network, crashes a node or makes a link lossy with a
// click, and the class watches the real code react, message by message.
//
// A Dashboard is an http.Handler built on the network's own event stream
// (netsim.Network.Observe), so it works with any program that runs on
// netsim, unchanged:
//
//	n := netsim.NewNetwork(seed)
//	srv, err := dashboard.Serve("127.0.0.1:8080", n) // or mount dashboard.New(n) on a mux
//	defer srv.Close()
//	fmt.Println("dashboard:", srv.URL())
//	out := io.MultiWriter(os.Stdout, srv.Dashboard()) // narration shows on the page too
//
// # The page
//
// The page draws the nodes and the links that carry messages, moves every
// message along its link, and counts what was sent, delivered, dropped
// (and why) and is in flight. Clicking a node crashes it or restarts it;
// clicking the arrow of a link cuts that one direction or heals it;
// sliders set a link's drop rate, duplication and delay (or the defaults
// of every link); a partition is made by picking one side's nodes. Pause
// holds every message at the end of its link (netsim's Hold), Step lets
// one through, slow motion lets a few through per second. A live
// space-time diagram shows the last seconds, the partitions and crashes
// across it, and the narration the program writes (Dashboard.Write) and
// the changes of the network are listed as they happen. Export downloads
// a Go test that replays the session's faults on the same seed, in
// virtual time (ReplayTest).
//
// The page is plain HTML, CSS and JavaScript embedded in the package: no
// build step, no external URL, so it works offline in a lecture hall.
//
// # The HTTP interface
//
//	GET  /              the page (and its style.css and app.js)
//	GET  /events        server-sent events: "state" snapshots, "net" events, "narration", "lost"
//	GET  /api/state     a snapshot of the network, as JSON
//	GET  /api/export    the Go test that replays the session (ReplayTest)
//	POST /api/...       the controls: partition, heal, crash, restart, link, faults,
//	                    pause, resume, step, slow (see control.go for their JSON)
//
// A control that makes no sense (malformed JSON, an unknown node, a rate
// outside [0, 1]) gets 400 Bad Request with a message saying why, and
// changes nothing.
//
// # A browser never slows the network
//
// The network's observer never waits: each browser has a bounded buffer
// of events (WithBuffer), and what a slow or stuck browser cannot take is
// dropped and counted, and the page says how many it missed. A browser
// that stops reading is given up on after a few seconds. The dashboard
// costs the network one JSON encoding per event, whoever watches.
//
// Close stops observing the network, ends the event streams and waits for
// them; it leaves the network's partitions, crashes and faults as they
// are (but lets go of the messages slow motion was holding).
package dashboard
