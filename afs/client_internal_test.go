package afs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A fetch's reply and a callback for a later store travel on different
// connections, so the callback may arrive first: the client must not then
// cache the old version the fetch brings.
func TestLateFetchReplyDoesNotUndoACallback(t *testing.T) {
	c := NewClient("alice", nil)
	require.NoError(t, callbackService{c}.Break(&BreakArgs{Name: "f", Version: 3}, nil))

	c.mu.Lock()
	c.keepLocked(File{Name: "f", Data: "old", Version: 2})
	_, cached := c.cache["f"]
	c.mu.Unlock()
	assert.False(t, cached, "version 2 arrived after a callback for version 3")

	c.mu.Lock()
	c.keepLocked(File{Name: "f", Data: "new", Version: 3})
	got := c.cache["f"]
	c.mu.Unlock()
	assert.Equal(t, "new", got.Data)
}
