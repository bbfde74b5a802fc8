package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/distsys-kit/distsys/lock"
)

// errForged is what the ledger answers to a token the lock service did not
// sign.
var errForged = errors.New("ledger: token not signed by the lock service")

// WriteArgs writes Value under Key, with the writer's fencing token and,
// for a ledger that checks them, the lock service's signature of it.
type WriteArgs struct {
	Token      uint64
	Sig        string
	Key, Value string
}

// Ledger is a resource guarded by fencing tokens ("Ledger.Write"): a
// lock.FencedStore, which refuses a token older than the newest it has
// seen. With a key, it first checks that the lock service signed the
// token. It is safe for concurrent use.
type Ledger struct {
	store lock.FencedStore
	key   []byte // the lock service's key; nil: tokens are taken on trust
}

// Write stores the value if the token is (signed and) not stale.
func (l *Ledger) Write(args *WriteArgs, _ *struct{}) error {
	if l.key != nil && !hmac.Equal([]byte(args.Sig), []byte(sign(l.key, args.Token))) {
		return errForged
	}
	return l.store.Put(args.Token, args.Key, args.Value)
}

// sign is the lock service's signature of a token: HMAC-SHA256 under a key
// it shares with the resources it guards.
func sign(key []byte, token uint64) string {
	m := hmac.New(sha256.New, key)
	m.Write(binary.BigEndian.AppendUint64(nil, token))
	return hex.EncodeToString(m.Sum(nil))
}

// lockKey is the key the lock service shares with the ledger.
var lockKey = []byte("the lock service and the ledger")

// forgery is step 5: mallory writes with a fencing token she made up, far
// above any real one. A ledger that takes tokens on trust accepts it, and
// from then on refuses every honest holder; one that checks the lock
// service's signature refuses her.
func (s *stage) forgery(ctx context.Context, o *outcome) error {
	fmt.Fprintln(s.out, "\n5. A forged fencing token. alice holds the ledger's lock with token 4 (lock.FencedStore refuses")
	fmt.Fprintln(s.out, "   older tokens). mallory never asked for the lock: she writes with token 1000000, made up.")
	const alices, forged = 4, 1_000_000
	for _, signed := range []bool{false, true} {
		ledger := &Ledger{}
		if signed {
			ledger.key = lockKey
		}
		srv, err := serve("Ledger", ledger, guard{}, s.tr, "ledger")
		if err != nil {
			return err
		}
		write := func(node string, token uint64, sig, value string) error {
			ctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			rc, err := dial(ctx, srv.addr, guard{}, s.tr, node)
			if err != nil {
				return err
			}
			defer rc.Close()
			return rc.Call(ctx, "Ledger.Write", &WriteArgs{Token: token, Sig: sig, Key: "balance", Value: value}, nil)
		}
		aerr1 := write("alice", alices, sign(lockKey, alices), "100")
		merr := write("mallory", forged, "0123456789abcdef", "0")
		aerr2 := write("alice", alices, sign(lockKey, alices), "110")
		srv.close()
		value, _ := ledger.store.Get("balance")
		if !signed {
			o.forgedAccepted = merr == nil
			o.aliceLockedOut = aerr2 != nil
			fmt.Fprintf(s.out, "   Tokens on trust: alice's first write %s; mallory's %s;\n   alice's next %s.\n",
				fenceOutcome(aerr1), fenceOutcome(merr), fenceOutcome(aerr2))
			fmt.Fprintf(s.out, "   The ledger holds balance=%s, and refuses every real token from now on: a token is a number\n", value)
			fmt.Fprintln(s.out, "   anyone can write, unless the resource can check where it came from.")
			continue
		}
		o.forgedRefused = errors.Is(merr, errForged)
		fmt.Fprintln(s.out, "   Tokens signed by the lock service (HMAC under a key it shares with the ledger):")
		fmt.Fprintf(s.out, "   alice's first write %s; mallory's %s;\n   alice's next %s. The ledger holds balance=%s.\n",
			fenceOutcome(aerr1), fenceOutcome(merr), fenceOutcome(aerr2), value)
	}
	return nil
}

// fenceOutcome says how a write to the ledger ended.
func fenceOutcome(err error) string {
	switch {
	case err == nil:
		return "is accepted"
	case errors.Is(err, errForged):
		return "is REFUSED (not signed by the lock service)"
	case errors.Is(err, lock.ErrStaleToken):
		return "is REFUSED (stale token)"
	}
	return "FAILED: " + err.Error()
}
