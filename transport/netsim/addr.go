package netsim

import "net"

// Addr is the address of a node: its name. Conns, listeners and packet
// conns report their addresses as Addrs, and a packet conn's WriteTo
// accepts any net.Addr whose String is a node name.
type Addr string

var _ net.Addr = Addr("")

// Network returns "netsim".
func (a Addr) Network() string { return "netsim" }

// String returns the node name.
func (a Addr) String() string { return string(a) }
