package membrane

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// Marker names.
const (
	markerNow     = "now"
	markerAfter   = "after"
	markerPatched = "patched"
	markerRandom  = "random"
	markerUUID    = "uuid"
)

// Now implements flowimpl.Guest.
func (m *Membrane) Now() time.Time {
	m.check()
	if en := m.next(); en != nil {
		if en.kind != KindMarker || en.marker != markerNow {
			m.mismatch(en, crossing{op: opNow})
		}
		t, err := decodeTime(en.data)
		if err != nil {
			m.diverge(en, diag.CorruptLog, crossing{op: opNow})
		}
		m.consume()
		return t
	}
	t := m.host.Now().Round(0)
	var e codec.Encoder
	e.PutTime(t)
	m.append(&entry{kind: KindMarker, marker: markerNow, data: e.Bytes()}, true, With{})
	// Hand the guest what replay will hand it: the decoded reading.
	t, _ = decodeTime(e.Bytes())
	return t
}

func decodeTime(b []byte) (time.Time, error) {
	d := codec.NewDecoder(b)
	t := d.ReadTime()
	return t, d.Done()
}

// After implements flowimpl.Guest.
func (m *Membrane) After(dur time.Duration) flow.VowID {
	m.check()
	if en := m.next(); en != nil {
		did := crossing{op: opAfter, dur: dur}
		if en.kind != KindMarker || en.marker != markerAfter {
			m.mismatch(en, did)
		}
		d := codec.NewDecoder(en.data)
		n := d.ReadList()
		logged := time.Duration(d.ReadInt(64))
		id := d.ReadVow()
		d.ReadTime()
		if d.Done() != nil || n != 3 {
			m.diverge(en, diag.CorruptLog, did)
		}
		if logged != dur {
			m.diverge(en, diag.OtherStep, did)
		}
		m.consume()
		return id
	}
	m.barrier()
	deadline := m.host.Now().Add(dur)
	id := flow.NewVowID()
	var e codec.Encoder
	e.PutList(3)
	e.PutInt(int64(dur))
	e.PutVow(id)
	e.PutTime(deadline)
	m.append(&entry{kind: KindMarker, marker: markerAfter, data: e.Bytes()}, true, With{Timer: &Timer{Vow: id, Deadline: deadline}})
	return id
}

// Random implements flowimpl.Guest.
func (m *Membrane) Random() uint64 {
	m.check()
	if en := m.replayMarker(markerRandom, opRandom, ""); en != nil {
		d := codec.NewDecoder(en.data)
		u := d.ReadUint(64)
		if d.Done() != nil {
			m.diverge(en, diag.CorruptLog, crossing{op: opRandom})
		}
		m.consume()
		return u
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails
	u := binary.BigEndian.Uint64(b[:])
	var e codec.Encoder
	e.PutUint(u)
	m.append(&entry{kind: KindMarker, marker: markerRandom, data: e.Bytes()}, true, With{})
	return u
}

// UUID implements flowimpl.Guest.
func (m *Membrane) UUID() [16]byte {
	m.check()
	var u [16]byte
	if en := m.replayMarker(markerUUID, opUUID, ""); en != nil {
		d := codec.NewDecoder(en.data)
		b := d.ReadBytes()
		if d.Done() != nil || len(b) != len(u) {
			m.diverge(en, diag.CorruptLog, crossing{op: opUUID})
		}
		m.consume()
		copy(u[:], b)
		return u
	}
	_, _ = rand.Read(u[:])  // never fails
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var e codec.Encoder
	e.PutBytes(u[:])
	m.append(&entry{kind: KindMarker, marker: markerUUID, data: e.Bytes()}, true, With{})
	return u
}

// replayMarker returns the next log entry, which must be the marker marker
// the crossing op (on the mailbox or status name) asks for, or nil when
// live.
func (m *Membrane) replayMarker(marker string, op crossingOp, name string) *entry {
	en := m.next()
	if en != nil && (en.kind != KindMarker || en.marker != marker) {
		m.mismatch(en, crossing{op: op, name: name})
	}
	return en
}

// Cancellation implements flowimpl.Guest: the activation's cancellation
// vow. Its id is derived from the activation's, so asking for it is no
// crossing and is not logged; awaiting it is, like any vow.
func (m *Membrane) Cancellation() flow.VowID {
	m.check()
	return CancelVow(m.act)
}

// CancelVow returns the id of an activation's cancellation vow.
func CancelVow(act flow.ActivationID) flow.VowID {
	h := sha256.Sum256(append([]byte("asyncflow cancellation\x00"), act[:]...))
	var id flow.VowID
	copy(id[:], h[:16])
	return id
}
