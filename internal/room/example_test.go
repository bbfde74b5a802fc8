package room_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/distsys-kit/distsys/internal/room"
)

// mailbox holds one message: Put waits for room, Take makes it.
type mailbox struct {
	mu   sync.Mutex
	box  []string
	room room.Cond
}

func (m *mailbox) Put(ctx context.Context, s string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.box) == 1 { // full
		// No Close in this small example, so no stop channel: nil
		// never closes.
		if err := m.room.Wait(ctx, &m.mu, nil); err != nil {
			return err
		}
	}
	m.box = append(m.box, s)
	return nil
}

func (m *mailbox) Take() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.box[0]
	m.box = m.box[1:]
	m.room.Broadcast()
	return s
}

func ExampleCond() {
	m := &mailbox{}
	_ = m.Put(context.Background(), "first")

	// The box is full: a Put whose context has ended gives up.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fmt.Println(m.Put(ctx, "late"))

	// A Put that waits gets in once Take makes room.
	done := make(chan error)
	go func() { done <- m.Put(context.Background(), "second") }()
	fmt.Println(m.Take())
	fmt.Println(<-done)
	fmt.Println(m.Take())
	// Output:
	// context canceled
	// first
	// <nil>
	// second
}
