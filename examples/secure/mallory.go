package main

import (
	"bytes"
	"io"
	"net"
	"sync"
)

// mallory is a man in the middle: a TCP proxy between alice and the bank.
// She records every byte alice sends, and may change it on the way
// (tamper). She sees exactly what a router, a Wi-Fi access point or anyone
// on the path sees.
//
//	alice ──TCP──▶ mallory ──TCP──▶ bank
//	               (records, tampers)
type mallory struct {
	l      net.Listener
	target string
	tamper func([]byte) []byte // applied to what alice sends; nil passes it unchanged

	wg sync.WaitGroup // the proxy's goroutines

	mu     sync.Mutex // protects heard, conns, closed
	heard  bytes.Buffer
	conns  []net.Conn
	closed bool
}

// newMallory starts a proxy to target on a free port of 127.0.0.1.
func newMallory(target string, tamper func([]byte) []byte) (*mallory, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &mallory{l: l, target: target, tamper: tamper}
	m.wg.Go(m.accept) // exits when close closes l
	return m, nil
}

// addr is where alice connects, believing it is the bank.
func (m *mallory) addr() string { return m.l.Addr().String() }

// accept proxies every connection alice makes.
func (m *mallory) accept() {
	for {
		in, err := m.l.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", m.target)
		if err != nil {
			in.Close()
			continue
		}
		if !m.track(in, out) {
			return
		}
		m.wg.Go(func() { m.copy(out, in, true) })  // alice to the bank; exits when either conn closes
		m.wg.Go(func() { m.copy(in, out, false) }) // the bank to alice
	}
}

// track remembers conns, so that close can close them; it reports false,
// closing them, if mallory has been closed.
func (m *mallory) track(cs ...net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	m.conns = append(m.conns, cs...)
	return true
}

// copy forwards src to dst; fromAlice says which way it goes.
func (m *mallory) copy(dst, src net.Conn, fromAlice bool) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if fromAlice {
				m.mu.Lock()
				m.heard.Write(chunk)
				m.mu.Unlock()
				if m.tamper != nil {
					chunk = m.tamper(chunk)
				}
			}
			if _, werr := dst.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				src.Close()
			}
			return
		}
	}
}

// recorded returns a copy of everything alice has sent through mallory.
func (m *mallory) recorded() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.heard.Bytes())
}

// close stops the proxy and waits for its goroutines.
func (m *mallory) close() {
	m.l.Close()
	m.mu.Lock()
	m.closed = true
	for _, c := range m.conns {
		c.Close()
	}
	m.mu.Unlock()
	m.wg.Wait()
}
