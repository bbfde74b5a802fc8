package trace

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind says what an Event is.
type Kind string

// The kinds of events a process does: each ticks its node's clock, and
// each is a line in the ShiViz log.
const (
	KindSend    Kind = "send"    // the node sent a message
	KindReceive Kind = "receive" // the node received a message
	KindLocal   Kind = "local"   // the program logged something (Node.Log)
	// KindResend: the node sent a message again, the same message with
	// the same stamp: an rpc client's retry, or a server answering a
	// duplicate from its reply cache (Recorder.Transmitted sees it).
	KindResend Kind = "resend"
	// KindDiscard: the program chose not to send a message (a full queue,
	// a slow reader), and said so with Node.Discard.
	KindDiscard Kind = "discard"
	KindCrash   Kind = "crash"   // the node crashed (Node.Crashed)
	KindRestart Kind = "restart" // the node came back after a crash (Node.Restarted)
)

// The kinds of notes about the run that are not events of any process:
// they tick no clock, and the ShiViz log has no line for them (the
// diagram draws them).
const (
	// KindDrop: a copy of a message was lost on its way (reported by a
	// network, netsim, or by a failed send). Node is the sender, and the
	// clock is the one the message carried.
	KindDrop Kind = "drop"
	// KindDuplicate: a copy of a message reached Node, the receiver,
	// which had been handed a copy already: the network duplicated it,
	// or the sender resent it. Whether the program takes it as new is up
	// to the program; an rpc server with a reply cache does not. The
	// clock is the one the message carried.
	KindDuplicate Kind = "duplicate"
	// KindPartition, KindHeal and KindFaults: the network changed (a
	// partition, a cut link or a disconnected node; their end; new
	// faults on a link). Label says what; Node is empty.
	KindPartition Kind = "partition"
	KindHeal      Kind = "heal"
	KindFaults    Kind = "faults"
)

// valid reports whether k is one of the kinds above.
func (k Kind) valid() bool { return k.process() || k.note() }

// process reports whether k is a kind of event of a process: one that
// ticks its node's clock.
func (k Kind) process() bool {
	switch k {
	case KindSend, KindReceive, KindLocal, KindResend, KindDiscard, KindCrash, KindRestart:
		return true
	}
	return false
}

// note reports whether k is a kind of note about the run, not an event of
// a process.
func (k Kind) note() bool {
	switch k {
	case KindDrop, KindDuplicate, KindPartition, KindHeal, KindFaults:
		return true
	}
	return false
}

// network reports whether k is a change of the network, which Node is
// empty for.
func (k Kind) network() bool { return k == KindPartition || k == KindHeal || k == KindFaults }

// Event is one thing that happened at one node. Events are values: the
// Recorder hands out copies, and changing one changes nothing recorded.
type Event struct {
	// Node is the node the event happened at; for a drop, the sender;
	// for a duplicate, the receiver; for a change of the network, empty.
	Node string `json:"node"`
	// Kind says what happened.
	Kind Kind `json:"kind"`
	// Clock is Node's vector clock just after the event; for a drop or a
	// duplicate, the clock the message carried (its send's); for a change
	// of the network, none.
	Clock VectorClock `json:"clock"`
	// Peer is the other end of a message: the receiver of a send, a
	// resend, a discard or a drop, the sender of a receive or a duplicate. A send's Peer is the receiving node
	// once the Recorder has seen the message received; before that, it is
	// what the sending conn knew: the peer's name if it has heard from it,
	// its address if not.
	Peer string `json:"peer,omitempty"`
	// Msg numbers the message of a send, receive, resend, drop or
	// duplicate: the sender's own clock entry at the send. Sender and Msg together name the message
	// (see Message), so a receive can be matched to its send.
	Msg uint64 `json:"msg,omitempty"`
	// Label says what the event is: the text of a local event, the rpc
	// method a message carries, a label set with ContextWithLabel, or
	// what changed in the network.
	Label string `json:"label,omitempty"`
	// Size is the length of a message's payload in bytes.
	Size int `json:"size,omitempty"`
	// Data shows the start of a message's payload: text if it is
	// printable, hex if not.
	Data string `json:"data,omitempty"`
	// Note explains a drop ("dropped by netsim: partition", "send failed:
	// ..."), a discard ("queue full") or a resend ("retry").
	Note string `json:"note,omitempty"`
	// Time is when the Recorder saw the event, by its clock (WithClock).
	// It is for people to read: the order of events is given by Clock.
	Time time.Time `json:"time"`
}

// copied returns e with a clock of its own.
func (e Event) copied() Event {
	e.Clock = e.Clock.Copy()
	return e
}

// MessageID names a message: the node that sent it and that node's own
// clock entry at the send, which no other message of that node shares.
type MessageID struct {
	From string
	N    uint64
}

// String returns "from#n".
func (m MessageID) String() string { return m.From + "#" + strconv.FormatUint(m.N, 10) }

// Message returns the message a send, receive, resend, drop or duplicate
// is about, and false for any other event.
func (e Event) Message() (MessageID, bool) {
	switch e.Kind {
	case KindSend, KindResend, KindDrop:
		return MessageID{From: e.Node, N: e.Msg}, true
	case KindReceive, KindDuplicate:
		return MessageID{From: e.Peer, N: e.Msg}, true
	}
	return MessageID{}, false
}

// HappensBefore reports whether e happens before f: there is a chain of
// events from e to f, each one either the next event of the same node or
// the receipt of a message sent by the one before it. It compares clocks,
// so it holds for events of one recording. Drops and duplicates are not
// events of a process; they compare like the send of their message.
// Changes of the network have no clock: they happen before nothing.
func (e Event) HappensBefore(f Event) bool {
	if e.Kind.network() || f.Kind.network() {
		return false
	}
	return e.Clock.HappensBefore(f.Clock)
}

// String describes the event in one line, as the ShiViz log and the
// diagram's hover text show it.
func (e Event) String() string {
	var b strings.Builder
	switch e.Kind {
	case KindSend:
		fmt.Fprintf(&b, "send %s to %s", e.what(), e.Peer)
	case KindReceive:
		fmt.Fprintf(&b, "receive %s from %s", e.what(), e.Peer)
	case KindResend:
		fmt.Fprintf(&b, "resend %s to %s", e.what(), e.Peer)
		if e.Note != "" {
			b.WriteString(" (" + e.Note + ")")
		}
	case KindDrop:
		m, _ := e.Message()
		fmt.Fprintf(&b, "lost %s to %s", e.what(), e.Peer)
		fmt.Fprintf(&b, " (message %s)", m)
		if e.Note != "" {
			b.WriteString(": " + e.Note)
		}
	case KindDuplicate:
		m, _ := e.Message()
		fmt.Fprintf(&b, "another copy of %s from %s (message %s)", e.what(), e.Peer, m)
	case KindDiscard:
		fmt.Fprintf(&b, "discard %s for %s", e.what(), e.Peer)
		if e.Note != "" {
			b.WriteString(": " + e.Note)
		}
	case KindCrash:
		b.WriteString("crashed")
	case KindRestart:
		b.WriteString("restarted")
	case KindPartition, KindHeal, KindFaults:
		b.WriteString(string(e.Kind))
		if e.Label != "" {
			b.WriteString(": " + e.Label)
		}
	default:
		b.WriteString(e.Label)
	}
	return b.String()
}

// what names a message for String: its label if any, and its size.
func (e Event) what() string {
	s := fmt.Sprintf("%d bytes", e.Size)
	if e.Label != "" {
		s = strconv.Quote(e.Label) + " (" + s + ")"
	}
	return s
}

// previewLen is how many payload bytes Event.Data shows.
const previewLen = 32

// preview shows the start of a payload: quoted text if it is printable
// UTF-8, hex if not, with "..." when cut.
func preview(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	cut, more := p, ""
	if len(p) > previewLen {
		cut, more = p[:previewLen], "..."
		// The cut may split the last rune: leave out its first bytes.
		for i := len(cut) - 1; i >= 0 && i >= len(cut)-utf8.UTFMax; i-- {
			if utf8.RuneStart(cut[i]) {
				if !utf8.FullRune(cut[i:]) {
					cut = cut[:i]
				}
				break
			}
		}
	}
	if utf8.Valid(cut) && !bytes.ContainsFunc(cut, func(r rune) bool { return !strconv.IsPrint(r) }) {
		return strconv.Quote(string(cut)) + more
	}
	return fmt.Sprintf("%x", p[:min(len(p), previewLen)]) + more
}

// sortedNodes returns the nodes of a clock in sorted order.
func sortedNodes(v VectorClock) []string { return slices.Sorted(maps.Keys(v)) }
