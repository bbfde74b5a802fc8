package mapreduce

import "github.com/distsys-kit/distsys/transport"

// A Network is where Run's coordinator and workers listen and dial. Each
// is a node with a name ("coordinator", "worker-1", ...); a
// *netsim.Network has exactly these methods, so a job can run over a
// simulated network whose links drop, delay or partition, and whose nodes
// crash.
type Network interface {
	// Listen returns a listener for node; its Addr is what others dial.
	Listen(node string) (transport.Listener, error)
	// Dialer returns a dialer for connections from node.
	Dialer(from string) transport.Dialer
}

// loopbackTCP is the default Network: real TCP on 127.0.0.1, with node
// names ignored.
type loopbackTCP struct{}

func (loopbackTCP) Listen(string) (transport.Listener, error) {
	return transport.ListenTCP("127.0.0.1:0")
}

func (loopbackTCP) Dialer(string) transport.Dialer { return transport.NewTCPDialer() }
