package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/lock"
)

func read(t *testing.T, b *Bank, token uint64, names ...string) (map[string]Account, error) {
	t.Helper()
	var r ReadReply
	err := b.Read(&ReadArgs{Names: names, Token: token}, &r)
	return r.Accounts, err
}

func TestReadsAreFencedToo(t *testing.T) {
	// The old holder (token 5) reads; its lease ends and the new holder
	// (token 6) reads. The old holder's write must be refused even though
	// the new holder has not written yet, or the new holder's write would
	// be based on a balance that is no longer there.
	b := newBank()
	b.open(3, 100, true)
	old, err := read(t, b, 5, "acct-1")
	require.NoError(t, err)
	_, err = read(t, b, 6, "acct-1")
	require.NoError(t, err)
	err = b.Write(&WriteArgs{Accounts: map[string]Account{"acct-1": {Balance: 0, Version: old["acct-1"].Version}}, Token: 5}, nil)
	require.ErrorIs(t, err, lock.ErrStaleToken, "the bank's FencedStore refuses the old holder")
	assert.Equal(t, 100, b.balance("acct-1"), "the refused write changed nothing")

	_, err = read(t, b, 5, "acct-1")
	assert.ErrorIs(t, err, lock.ErrStaleToken, "a stale read is refused as well")
	_, err = read(t, b, 0, "acct-1")
	assert.ErrorIs(t, err, lock.ErrStaleToken, "a fenced bank wants a token")
	assert.Equal(t, ledger{total: 300, refused: 3, newest: 6}, b.ledger())
}

func TestUnfencedBankCountsLostUpdates(t *testing.T) {
	b := newBank()
	b.open(2, 100, false)
	first, err := read(t, b, 0, "acct-1", "acct-2")
	require.NoError(t, err)
	second, err := read(t, b, 0, "acct-1", "acct-2")
	require.NoError(t, err)

	move := func(seen map[string]Account, amount int) map[string]Account {
		return map[string]Account{
			"acct-1": {Balance: seen["acct-1"].Balance - amount, Version: seen["acct-1"].Version},
			"acct-2": {Balance: seen["acct-2"].Balance + amount, Version: seen["acct-2"].Version},
		}
	}
	require.NoError(t, b.Write(&WriteArgs{Accounts: move(first, 10)}, nil))
	require.NoError(t, b.Write(&WriteArgs{Accounts: move(second, 30)}, nil), "without fencing, the stale write goes in")
	l := b.ledger()
	assert.Equal(t, 200, l.total, "both transfers conserve money; the second simply erased the first")
	assert.Equal(t, 2, l.overwrites, "both of the second write's balances had changed since it read them")
	assert.Equal(t, 70, b.balance("acct-1"))
}

func TestWriteIsAllOrNothing(t *testing.T) {
	b := newBank()
	b.open(2, 100, false)
	err := b.Write(&WriteArgs{Accounts: map[string]Account{"acct-1": {Balance: 0}, "acct-9": {Balance: 200}}}, nil)
	require.EqualError(t, err, `no account "acct-9"`)
	assert.Equal(t, 100, b.balance("acct-1"))
	_, err = read(t, b, 0, "acct-0")
	assert.EqualError(t, err, `no account "acct-0"`)
}
