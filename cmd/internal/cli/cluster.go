package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"unicode"
)

// Limits of a cluster file. They are generous for a course's clusters and
// keep a wrong file (a log, a binary) from being read whole.
const (
	maxClusterLine  = 1024 // bytes per line
	maxClusterPeers = 1000
	maxPeerID       = 64
)

// Peer is one machine of a cluster: the ID the cluster file gives it and
// the address others reach it at.
type Peer struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

// Cluster is what a cluster file says: the peers, in the file's order.
//
// The file has one peer per line, "id=host:port". A # starts a comment,
// blank lines are ignored, and spaces around the id and the address are
// too:
//
//	# the course cluster
//	lock = 10.0.0.1:7070   # the lock server
//	kv   = 10.0.0.2:7080
//	coordinator = lab-3.example.edu:7090
//
// IDs are letters, digits, '.', '_' and '-', at most 64 of them; each ID
// and each address appears once. The host is required (":7070" cannot be
// dialed), the port is a number from 1 to 65535.
type Cluster struct {
	Peers []Peer
}

// LoadCluster reads and parses the cluster file at path. Its errors name
// the file and the line.
func LoadCluster(path string) (Cluster, error) {
	f, err := os.Open(path)
	if err != nil {
		return Cluster{}, err
	}
	defer f.Close()
	return ParseCluster(path, f)
}

// ParseCluster parses a cluster file read from r; name is the file's name,
// for the errors ("cluster.conf:3: ..."). It reads at most 1000 peers of
// lines of at most 1024 bytes.
func ParseCluster(name string, r io.Reader) (Cluster, error) {
	var c Cluster
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxClusterLine)
	ids := map[string]int{}   // id → line
	addrs := map[string]int{} // address → line
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		p, err := parsePeer(text)
		if err != nil {
			return Cluster{}, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if first, dup := ids[p.ID]; dup {
			return Cluster{}, fmt.Errorf("%s:%d: peer %q is already on line %d", name, line, p.ID, first)
		}
		if first, dup := addrs[p.Addr]; dup {
			return Cluster{}, fmt.Errorf("%s:%d: address %s is already on line %d", name, line, p.Addr, first)
		}
		if len(c.Peers) == maxClusterPeers {
			return Cluster{}, fmt.Errorf("%s:%d: more than %d peers", name, line, maxClusterPeers)
		}
		ids[p.ID], addrs[p.Addr] = line, line
		c.Peers = append(c.Peers, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Cluster{}, fmt.Errorf("%s:%d: line longer than %d bytes", name, line+1, maxClusterLine)
		}
		return Cluster{}, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// parsePeer parses "id=host:port", already trimmed and without comment.
func parsePeer(text string) (Peer, error) {
	id, addr, ok := strings.Cut(text, "=")
	if !ok {
		return Peer{}, fmt.Errorf("want id=host:port, got %q", text)
	}
	p := Peer{ID: strings.TrimSpace(id), Addr: strings.TrimSpace(addr)}
	if err := checkID(p.ID); err != nil {
		return Peer{}, err
	}
	if err := checkAddr(p.Addr); err != nil {
		return Peer{}, fmt.Errorf("peer %s: %w", p.ID, err)
	}
	return p, nil
}

func checkID(id string) error {
	if id == "" {
		return errors.New("empty peer id before '='")
	}
	if len(id) > maxPeerID {
		return fmt.Errorf("peer id of %d bytes, limit is %d", len(id), maxPeerID)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("peer id %q: %q is not allowed (letters, digits, '.', '_', '-')", id, r)
		}
	}
	return nil
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: want host:port", addr)
	}
	if host == "" {
		return fmt.Errorf("address %q has no host: others could not reach it", addr)
	}
	for _, r := range host {
		if r == '=' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("address %q: host %q is not a host name or IP", addr, host)
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("address %q: port %q is not a number from 1 to 65535", addr, port)
	}
	return nil
}

// Lookup returns the peer with the given ID.
func (c Cluster) Lookup(id string) (Peer, error) {
	for _, p := range c.Peers {
		if p.ID == id {
			return p, nil
		}
	}
	ids := make([]string, len(c.Peers))
	for i, p := range c.Peers {
		ids[i] = p.ID
	}
	return Peer{}, fmt.Errorf("no peer %q in the cluster file; it has %q", id, ids)
}

// Format writes c as a cluster file that ParseCluster reads back as c.
func (c Cluster) Format(w io.Writer) error {
	for _, p := range c.Peers {
		if _, err := fmt.Fprintf(w, "%s=%s\n", p.ID, p.Addr); err != nil {
			return err
		}
	}
	return nil
}

// ListenAddr returns the address a server whose entry is p listens on:
// every interface, at p's port. The host in the file is how others reach
// the machine, which need not be an address of its own interfaces (a
// cloud machine's public IP is on its provider's router, not on it).
func (p Peer) ListenAddr() string {
	_, port, _ := net.SplitHostPort(p.Addr)
	return ":" + port
}
