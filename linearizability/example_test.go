package linearizability_test

import (
	"fmt"

	"github.com/anishathalye/porcupine"

	lin "github.com/distsys-kit/distsys/linearizability"
)

// Two histories of one key. In the first, a read overlaps a put and sees
// it: fine. In the second, a read that starts after the put returned does
// not see it: no order of the operations explains that.
func Example() {
	put := lin.KVInput{Op: lin.Put, Key: "x", Value: "1"}
	get := lin.KVInput{Op: lin.Get, Key: "x"}
	applied := lin.KVOutput{Version: 1, Found: true}
	sawIt := lin.KVOutput{Value: "1", Version: 1, Found: true}

	overlap := lin.NewRecorder()
	overlap.Add(0, put, 1, applied, 4)
	overlap.Add(1, get, 2, sawIt, 3)
	fmt.Println("overlapping read sees the put:", porcupine.CheckOperations(lin.KVModel, overlap.History()))

	stale := lin.NewRecorder()
	stale.Add(0, put, 1, applied, 2)
	stale.Add(1, get, 3, lin.KVOutput{}, 4)
	fmt.Println("later read misses the put:", porcupine.CheckOperations(lin.KVModel, stale.History()))
	// Output:
	// overlapping read sees the put: true
	// later read misses the put: false
}
