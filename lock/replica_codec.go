package lock

import (
	"encoding/binary"
	"errors"
)

// Commands and results cross the log as a few varints, not gob: every
// lock operation is at least one command, and gob would compile a decoder
// for each. Snapshots, rare and large, use gob.
//
//	command: kind | from | term | stamp (zigzag) | epoch | session | seq | renewal | floor |
//	         wait (0/1) | len client, client | len name, name | len wanted, wanted...
//	result:  status | token | epoch | session | len err, err

func (c command) encode() []byte {
	b := make([]byte, 0, 64+len(c.Client)+len(c.Name)+8*len(c.Wanted))
	b = append(b, byte(c.Kind))
	for _, v := range []uint64{c.From, c.Term} {
		b = binary.AppendUvarint(b, v)
	}
	b = binary.AppendVarint(b, c.Stamp)
	for _, v := range []uint64{c.Session.Epoch, c.Session.ID, c.Seq, c.Renewal, c.Floor} {
		b = binary.AppendUvarint(b, v)
	}
	if c.Wait {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendString(b, c.Client)
	b = appendString(b, c.Name)
	b = binary.AppendUvarint(b, uint64(len(c.Wanted)))
	for _, w := range c.Wanted {
		b = binary.AppendUvarint(b, w)
	}
	return b
}

func decodeCommand(b []byte) (command, error) {
	d := decoder{b: b}
	c := command{Kind: cmdKind(d.byte())}
	c.From, c.Term = d.uvarint(), d.uvarint()
	c.Stamp = d.varint()
	c.Session.Epoch, c.Session.ID = d.uvarint(), d.uvarint()
	c.Seq, c.Renewal, c.Floor = d.uvarint(), d.uvarint(), d.uvarint()
	c.Wait = d.byte() == 1
	c.Client, c.Name = d.string(), d.string()
	n := d.uvarint()
	if n > uint64(len(d.b)) { // each takes at least a byte
		return command{}, errBadCommand
	}
	for range n {
		c.Wanted = append(c.Wanted, d.uvarint())
	}
	if d.bad || len(d.b) != 0 {
		return command{}, errBadCommand
	}
	return c, nil
}

func (r result) encode() []byte {
	b := []byte{byte(r.Status)}
	for _, v := range []uint64{r.Token, r.Session.Epoch, r.Session.ID} {
		b = binary.AppendUvarint(b, v)
	}
	return appendString(b, r.Err)
}

func decodeResult(b []byte) (result, error) {
	d := decoder{b: b}
	r := result{Status: status(d.byte())}
	r.Token, r.Session.Epoch, r.Session.ID = d.uvarint(), d.uvarint(), d.uvarint()
	r.Err = d.string()
	if d.bad || len(d.b) != 0 {
		return result{}, errors.New("lock: bad result")
	}
	return r, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads what encode wrote; bad says it ran short or met garbage,
// after which it reads zeros.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.bad = true
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
