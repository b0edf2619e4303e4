package membrane

import (
	"maps"
	"strconv"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// Marker names of the activation's mailboxes and publications.
const (
	markerReceive = "receive" // a receiver made in a mailbox: name, vow
	markerStatus  = "status"  // a publication: name, value
)

// Receive implements flowimpl.Guest: the vow the next message of the
// mailbox settles. The mailbox's receiver is handed out again until the
// guest has read its message (Settlement, through Await): a flow that raced
// it against a timer and lost, or won a Race with it and then awaits the
// next message, gets that same message. After that, a call makes a new
// receiver, logged as a marker with the vow's id, and the store hands it
// the earliest message waiting, or the next one sent.
func (m *Membrane) Receive(mailbox string) flow.VowID {
	m.check()
	if v, ok := m.receivers[mailbox]; ok {
		return v
	}
	did := crossing{op: opReceive, name: mailbox}
	if en := m.replayMarker(markerReceive, opReceive, mailbox); en != nil {
		name, vow, err := decodeReceive(en.data)
		switch {
		case err != nil:
			m.diverge(en, diag.CorruptLog, did)
		case name != mailbox:
			m.diverge(en, diag.OtherStep, did)
		}
		m.consume()
		m.receiver(mailbox, vow)
		return vow
	}
	vow := flow.NewVowID()
	var e codec.Encoder
	e.PutList(2)
	e.PutString(mailbox)
	e.PutVow(vow)
	m.append(&entry{kind: KindMarker, marker: markerReceive, data: e.Bytes()}, true, With{Receiver: &Receiver{Mailbox: mailbox, Vow: vow}})
	m.receiver(mailbox, vow)
	return vow
}

// receiver makes vow the mailbox's receiver; most flows have no mailbox,
// so the map is made on the first.
func (m *Membrane) receiver(mailbox string, vow flow.VowID) {
	if m.receivers == nil {
		m.receivers = map[string]flow.VowID{}
	}
	m.receivers[mailbox] = vow
}

// taken notes that the guest read the settlement of a vow: if it is its
// mailbox's receiver, the mailbox's next receiver is a new one.
func (m *Membrane) taken(vow flow.VowID) {
	for name, v := range m.receivers {
		if v == vow {
			delete(m.receivers, name)
			return
		}
	}
}

func decodeReceive(data []byte) (string, flow.VowID, error) {
	d := codec.NewDecoder(data)
	n := d.ReadList()
	name := d.ReadString()
	vow := d.ReadVow()
	if err := d.Done(); err != nil {
		return "", flow.VowID{}, err
	}
	if n != 2 {
		return "", flow.VowID{}, &codec.MismatchError{Got: "a list of " + strconv.Itoa(n), Want: "a list of 2"}
	}
	return name, vow, nil
}

// SetStatus implements flowimpl.Guest: live it logs the publication and
// writes it in the same transaction; replaying it consumes the logged one.
// The value need not be the one logged: a flow never reads what it
// published, so a new build that publishes another value at that point
// replays, and the stored value stays what was published live until the
// flow publishes again.
func (m *Membrane) SetStatus(name string, value []byte) {
	m.check()
	did := crossing{op: opStatus, name: name, args: value}
	if en := m.replayMarker(markerStatus, opStatus, name); en != nil {
		logged, _, err := decodeStatus(en.data)
		switch {
		case err != nil:
			m.diverge(en, diag.CorruptLog, did)
		case logged != name:
			m.diverge(en, diag.OtherStep, did)
		}
		m.consume()
		return
	}
	var e codec.Encoder
	e.PutList(2)
	e.PutString(name)
	e.Value(codec.Raw(value))
	m.append(&entry{kind: KindMarker, marker: markerStatus, data: e.Bytes()}, false, With{Status: &Status{Name: name, Value: value}})
}

func decodeStatus(data []byte) (string, []byte, error) {
	d := codec.NewDecoder(data)
	n := d.ReadList()
	name := d.ReadString()
	value := d.ReadRaw()
	if err := d.Done(); err != nil {
		return "", nil, err
	}
	if n != 2 {
		return "", nil, &codec.MismatchError{Got: "a list of " + strconv.Itoa(n), Want: "a list of 2"}
	}
	return name, value, nil
}

// Unread returns the receivers the run was handed and whose messages it has
// not read, by mailbox: what a run that ends leaves in its mailboxes.
func (m *Membrane) Unread() map[string]flow.VowID { return maps.Clone(m.receivers) }
