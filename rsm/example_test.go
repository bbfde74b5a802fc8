package rsm_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/rsm"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// counter is a StateMachine: a number that "add N" commands increase.
type counter struct{ n int }

func (c *counter) Apply(cmd []byte) []byte {
	var d int
	_, _ = fmt.Sscanf(string(cmd), "add %d", &d)
	c.n += d
	return strconv.AppendInt(nil, int64(c.n), 10)
}
func (c *counter) Query([]byte) []byte { return strconv.AppendInt(nil, int64(c.n), 10) }
func (c *counter) Snapshot() []byte    { return c.Query(nil) }
func (c *counter) Restore(data []byte) (err error) {
	c.n, err = strconv.Atoi(string(data))
	return err
}

// Three replicas of a counter. A client's command is submitted twice, as
// after a lost reply, and is applied once; every replica reads the same.
func Example() {
	net := netsim.NewNetwork(1)
	defer net.Close()
	addrs := map[uint64]string{1: "n1", 2: "n2", 3: "n3"}
	replicas := map[uint64]*rsm.RSM{}
	for id := range uint64(3) {
		id++
		l, _ := net.Listen(addrs[id])
		r, err := rsm.New(raft.NodeConfig{
			Config:   raft.Config{ID: id, Storage: raft.NewMemoryStorage(), Seed: 1},
			Addrs:    addrs,
			Listener: l,
			Dialer:   net.Dialer(addrs[id]),
		}, &counter{})
		if err != nil {
			panic(err)
		}
		defer r.Close()
		replicas[id] = r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	req := rsm.Request{Client: 42, Seq: 1, Cmd: []byte("add 5")}
	for range 2 { // the same request, twice
		res, err := submit(ctx, replicas, req)
		fmt.Println("add 5 ->", res, err)
	}
	for id := range uint64(3) {
		v, err := replicas[id+1].Read(ctx, nil)
		fmt.Printf("replica %d reads %s %v\n", id+1, v, err)
	}
	// Output:
	// add 5 -> 5 <nil>
	// add 5 -> 5 <nil>
	// replica 1 reads 5 <nil>
	// replica 2 reads 5 <nil>
	// replica 3 reads 5 <nil>
}

// submit tries replica 1, then follows the leader hints; while there is
// no leader yet it waits a little.
func submit(ctx context.Context, replicas map[uint64]*rsm.RSM, req rsm.Request) (string, error) {
	id := uint64(1)
	for {
		res, err := replicas[id].Submit(ctx, req)
		var nle *raft.NotLeaderError
		switch {
		case err == nil:
			return string(res), nil
		case errors.As(err, &nle) && nle.Leader != raft.None:
			id = nle.Leader
			continue
		case ctx.Err() != nil:
			return "", err
		}
		time.Sleep(20 * time.Millisecond) // an election is under way
	}
}
