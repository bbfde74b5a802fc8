package netsim

import (
	"strconv"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// EventKind says what happened: to a message, or to the network.
type EventKind int

// The kinds of events about messages. A message is sent once; it then has
// one delivery or one drop for each copy: one copy, or two if it was
// duplicated.
const (
	// EventSend: a conn or packet conn handed the message to the network.
	EventSend EventKind = iota + 1
	// EventDuplicate: the link's faults made a second copy of the message
	// (reported at the send, before either copy arrives).
	EventDuplicate
	// EventDeliver: a copy reached the receiving conn or packet conn,
	// where it waits for Recv or ReadFrom. Msg is what arrived, which
	// faults may have corrupted or cut short.
	EventDeliver
	// EventDrop: a copy was lost; Reason says why.
	EventDrop
)

// The kinds of events about the network itself: a change made by one of
// its methods, reported once it has taken effect, and only if it changed
// something (crashing a crashed node reports nothing). They carry no
// message; the fields they use are named with each kind.
const (
	// EventCrash: Crash took Node down.
	EventCrash EventKind = iota + 101
	// EventRestart: Restart brought Node back.
	EventRestart
	// EventPartition: Partition split the network into Groups.
	EventPartition
	// EventHeal: Heal removed the partition and every cut link.
	EventHeal
	// EventDisconnect: Disconnect cut Node off from the others.
	EventDisconnect
	// EventReconnect: Reconnect joined Node to the others again.
	EventReconnect
	// EventCutLink: CutLink cut the one direction From -> To.
	EventCutLink
	// EventHealLink: HealLink restored the one direction From -> To.
	EventHealLink
	// EventFaults: the faults that messages From -> To meet changed to
	// Faults: by SetFaults, or by ClearFaults (Cleared is then true, and
	// Faults are the default faults the link follows again). From and To
	// are empty when SetDefaultFaults changed the default faults.
	EventFaults
	// EventLimits: SetLimits set the Limits of From -> To.
	EventLimits
	// EventHold: Hold made the network hold every copy that reaches the
	// end of its link, until Release or Resume.
	EventHold
	// EventResume: Resume delivered the held copies and ended the hold.
	EventResume
)

// Message reports whether k is the kind of an event about a message
// (send, duplicate, deliver, drop) rather than about the network.
func (k EventKind) Message() bool { return k >= EventSend && k <= EventDrop }

// String returns the kind's name: "send", "duplicate", "deliver", "drop",
// "crash", "restart", "partition", "heal", "disconnect", "reconnect",
// "cut link", "heal link", "faults", "limits", "hold" or "resume".
func (k EventKind) String() string {
	switch k {
	case EventSend:
		return "send"
	case EventDuplicate:
		return "duplicate"
	case EventDeliver:
		return "deliver"
	case EventDrop:
		return "drop"
	case EventCrash:
		return "crash"
	case EventRestart:
		return "restart"
	case EventPartition:
		return "partition"
	case EventHeal:
		return "heal"
	case EventDisconnect:
		return "disconnect"
	case EventReconnect:
		return "reconnect"
	case EventCutLink:
		return "cut link"
	case EventHealLink:
		return "heal link"
	case EventFaults:
		return "faults"
	case EventLimits:
		return "limits"
	case EventHold:
		return "hold"
	case EventResume:
		return "resume"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// DropReason says why a message was lost.
type DropReason int

// The reasons a message is lost.
const (
	// ReasonFault: the link's Faults dropped it (Faults.Drop).
	ReasonFault DropReason = iota + 1
	// ReasonPartition: a partition, a cut link or Disconnect separated its
	// sender and receiver when it was sent or when it would have arrived.
	ReasonPartition
	// ReasonCrash: its sender or receiver node crashed before it arrived.
	ReasonCrash
	// ReasonClosed: nothing was there to take it: the receiving conn end
	// was closed, or no packet conn was open on the receiving node.
	ReasonClosed
	// ReasonQueueFull: a datagram found the link's queue (Limits.Queue)
	// or the receiving packet conn's buffer full.
	ReasonQueueFull
)

// String returns "fault", "partition", "crash", "closed" or "queue full".
func (r DropReason) String() string {
	switch r {
	case ReasonFault:
		return "fault"
	case ReasonPartition:
		return "partition"
	case ReasonCrash:
		return "crash"
	case ReasonClosed:
		return "closed"
	case ReasonQueueFull:
		return "queue full"
	}
	return "DropReason(" + strconv.Itoa(int(r)) + ")"
}

// Event is one thing that happened on the network, as an observer (see
// WithObserver and Observe) sees it: something that happened to one
// message, or a change of the network. For a message, (ConnID, Seq) names
// it: every copy of it, and every event about it, carry the same pair.
type Event struct {
	Kind EventKind
	// From and To are the sending and receiving nodes of a message, and
	// the two ends of the link a link event is about.
	From, To string
	// ConnID identifies the conn end or packet conn that sent the
	// message. Every conn end and packet conn of a network has its own,
	// counted from 1 in the order they are made.
	ConnID uint64
	// Seq numbers the messages sent by ConnID: 1, 2, 3, ...
	Seq uint64
	// Msg is a copy of the message, the observer's to keep: what was sent
	// (send, duplicate), or what this copy carried when it arrived or was
	// lost (deliver, drop), which Corrupt or Truncate faults may have
	// changed.
	Msg []byte
	// Time is when the event happened, by time.Now (virtual time inside
	// a testing/synctest bubble).
	Time time.Time
	// Packet is true for a datagram of a packet conn, false for a message
	// of a conn.
	Packet bool
	// Duplicate is true for events about the extra copy of a duplicated
	// message (its EventDuplicate, and its delivery or drop).
	Duplicate bool
	// Corrupted and Truncated say what the faults did to this copy.
	Corrupted, Truncated bool
	// Reason says why a copy was lost (EventDrop only).
	Reason DropReason

	// Node is the node a crash, restart, disconnect or reconnect is about.
	Node string
	// Groups are the groups of a partition (EventPartition), as given to
	// Partition: the nodes named in none form one more group.
	Groups [][]string
	// Faults are the faults a link meets from now on (EventFaults).
	Faults transport.Faults
	// Cleared is true for the EventFaults of ClearFaults.
	Cleared bool
	// Limits are a link's new limits (EventLimits).
	Limits Limits
}
