package membrane

import (
	"bytes"
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
	m.append(&entry{kind: KindMarker, marker: markerNow, data: e.Bytes()}, true, nil)
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
	m.append(&entry{kind: KindMarker, marker: markerAfter, data: e.Bytes()}, true, &Timer{Vow: id, Deadline: deadline})
	return id
}

// Patched implements flowimpl.Guest.
func (m *Membrane) Patched(id string) bool {
	m.check()
	if v, ok := m.patched[id]; ok {
		return v
	}
	var e codec.Encoder
	e.PutString(id)
	if !m.live && m.cur < len(m.raw) {
		en := m.next()
		v := en.kind == KindMarker && en.marker == markerPatched && bytes.Equal(en.data, e.Bytes())
		if v {
			m.consume()
		}
		m.patched[id] = v
		return v
	}
	m.next() // goes live if the log is used up
	m.append(&entry{kind: KindMarker, marker: markerPatched, data: e.Bytes()}, false, nil)
	m.patched[id] = true
	return true
}
