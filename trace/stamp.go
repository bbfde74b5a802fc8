package trace

import "bytes"

// Stamp is what a traced message carries besides its payload, as a reader
// of the message sees it: which message it is, and its label.
type Stamp struct {
	Message MessageID // the sender and the message's number
	Label   string    // the rpc method, or ContextWithLabel's label; may be empty
}

// FindStamp returns the trace stamp msg carries: at its start, where a
// traced Conn puts it, or inside it, where the message carries a stamp
// verbatim, as an rpc request or reply traced by package tracerpc carries
// one in its metadata. It returns an error matching ErrNotTraced if msg
// carries none. A stamp is self-describing (magic bytes, then fields that
// say how long they are), which is what lets FindStamp find it inside a
// message whose format it does not know; a network observer (package
// tracesim, a dashboard) uses it to name the messages it sees.
func FindStamp(msg []byte) (Stamp, error) {
	h, err := findHeader(msg)
	if err != nil {
		return Stamp{}, err
	}
	return Stamp{Message: MessageID{From: h.from, N: h.msgID()}, Label: h.label}, nil
}

// maxStampTries bounds how many candidate positions findHeader decodes,
// so that a message full of magic bytes costs no more than a few headers.
const maxStampTries = 8

// findHeader finds and decodes the first well-formed header in msg: at
// offset 0, or after any bytes. What follows the header is ignored.
func findHeader(msg []byte) (header, error) {
	magic := append([]byte(headerMagic), headerVersion)
	at := 0
	for range maxStampTries {
		i := bytes.Index(msg[at:], magic)
		if i < 0 {
			break
		}
		if h, _, err := splitHeader(msg[at+i:]); err == nil {
			return h, nil
		}
		at += i + 1
	}
	return header{}, ErrNotTraced
}
