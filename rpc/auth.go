package rpc

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// signer signs and checks messages with HMAC-SHA256 under a shared key
// (WithSharedSecret). A nil *signer signs nothing and accepts anything.
//
// The MAC covers every byte of the message before it, the flags included,
// so nothing in a signed message can be changed, and a request cannot pass
// for a reply (the kind byte differs). It does not say when the message was
// made: a recorded message replays perfectly (see the package doc).
type signer struct {
	key  []byte
	macs sync.Pool // hash.Hash keyed with key; hmac is not safe for concurrent use
}

func newSigner(key []byte) *signer {
	if len(key) == 0 {
		return nil
	}
	return &signer{key: key}
}

func (s *signer) mac() hash.Hash {
	if h, ok := s.macs.Get().(hash.Hash); ok {
		h.Reset()
		return h
	}
	return hmac.New(sha256.New, s.key)
}

// seal marks msg as signed and appends its MAC.
func (s *signer) seal(msg []byte) []byte {
	if s == nil || len(msg) < 3 {
		return msg
	}
	msg[2] |= flagMAC
	h := s.mac()
	h.Write(msg)
	msg = h.Sum(msg)
	s.macs.Put(h)
	return msg
}

// open strips the MAC from msg and reports whether msg is acceptable: signed
// with the key if s is not nil. A MAC on a message to a receiver without a
// key is stripped unchecked. Messages too short to have a header are left
// for the parser to reject.
func (s *signer) open(msg []byte) ([]byte, bool) {
	if len(msg) < 3 {
		return msg, true
	}
	if msg[2]&flagMAC == 0 {
		return msg, s == nil
	}
	if len(msg) < 3+macLen {
		return msg, false
	}
	body, sum := msg[:len(msg)-macLen], msg[len(msg)-macLen:]
	if s == nil {
		return body, true
	}
	h := s.mac()
	h.Write(body)
	var buf [macLen]byte
	ok := hmac.Equal(h.Sum(buf[:0]), sum)
	s.macs.Put(h)
	return body, ok
}
