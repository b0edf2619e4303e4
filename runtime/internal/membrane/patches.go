package membrane

import (
	"slices"
	"strconv"

	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// How flow.Patched is answered while replaying:
//
//   - the next log entry is the marker for the id: true, and the marker is
//     consumed;
//   - the next entry is not: false, unless a decision says true (see below),
//     and nothing is consumed. Such an answer is open: the log does not
//     settle it, and it is what a search for decisions may change;
//   - a marker the code does not ask for where it stands (a retired patch)
//     is not an effect: any crossing other than Patched passes over it, and
//     Patched passes over markers of other ids on its way to its own. A
//     passed-over marker still says the activation took that patch, so a
//     later Patched of its id answers true.
//
// A decision is an id taken as true where the log has no marker for it: the
// activation ran past that point live under a build without the patch, on
// the new path. Decisions come from Config.Decided (a search that found
// them) or from a decided marker in the log (an earlier run that found them
// and recorded them when it went live), which replay passes over.

// markerDecided records the patch decisions a replay took, at the point the
// run went live: a list of ids taken as true.
const markerDecided = "decided"

// patchHow is how a Patched answer was reached while replaying.
type patchHow int

const (
	patchMarker   patchHow = iota + 1 // the marker was at the cursor
	patchNoMarker                     // no marker: the old branch, an open answer
	patchDecided                      // no marker, true by a decision
	patchRetired                      // a marker passed over: the code no longer asks for it there
)

// patchNote is one Patched answer of a replay, for diagnostics.
type patchNote struct {
	id    string
	value bool
	how   patchHow
	step  int64
}

func (n patchNote) String() string {
	call := "flow.Patched(" + strconv.Quote(n.id) + ")"
	at := " at step " + strconv.FormatInt(n.step, 10)
	switch n.how {
	case patchMarker:
		return call + " = true: its marker is logged" + at
	case patchNoMarker:
		return call + " = false: the log has no marker for it" + at + " (this activation reached it under a build without the patch, or before it)"
	case patchDecided:
		return call + " = true: the log has no marker for it" + at + ", taken as true by a decision of replay (the activation ran the new path under a build without the patch)"
	case patchRetired:
		return "the marker of " + call + at + " was passed over: the code no longer asks for it there"
	}
	return call
}

// isPatchMarker reports whether an entry is a marker replay may pass over.
func isPatchMarker(en *entry) bool {
	return en.kind == KindMarker && (en.marker == markerPatched || en.marker == markerDecided)
}

// preloadDecisions reads the decisions recorded in the log by earlier runs.
func (m *Membrane) preloadDecisions() {
	for _, r := range m.raw {
		if r.Kind != KindMarker {
			continue
		}
		en, err := decodeEntry(r)
		if err != nil || en.marker != markerDecided {
			continue // a corrupt entry fails the replay when it is reached
		}
		ids, err := decodeIDs(en.data)
		if err != nil {
			continue
		}
		for _, id := range ids {
			m.decided[id] = decidedLogged
		}
	}
}

// Where a decision comes from.
const (
	decidedLogged = 1 // a decided marker in the log
	decidedGiven  = 2 // Config.Decided: not yet recorded
)

// passMarker consumes a patch marker at the cursor that the code does not
// ask for here: a retired patch, or recorded decisions.
func (m *Membrane) passMarker(en *entry) {
	m.consume()
	if en.marker != markerPatched {
		return
	}
	id, err := decodeID(en.data)
	if err != nil {
		m.diverge(en, diag.CorruptLog, crossing{op: opPatched, patch: "?"})
	}
	if _, ok := m.patched[id]; !ok {
		m.patched[id] = true
	}
	m.note(patchNote{id: id, value: true, how: patchRetired, step: en.step})
}

func (m *Membrane) note(n patchNote) {
	if len(m.notes) < maxNotes {
		m.notes = append(m.notes, n)
	}
}

// maxNotes bounds the Patched answers a diagnostic lists.
const maxNotes = 16

// Open returns the patch ids a failed replay answered false for want of a
// marker, in the order the code asked for them: what a search for
// decisions may take as true. It is empty if the run did not fail while
// replaying.
func (m *Membrane) Open() []string {
	if m.live {
		return nil
	}
	return slices.Clone(m.open)
}

// Log returns the log the run replays; nil once it is live.
func (m *Membrane) Log() []Entry {
	if m.live {
		return nil
	}
	return m.raw
}

// recordDecisions appends the decisions given in Config.Decided that this
// run used, when it goes live, so the next replay takes them directly.
func (m *Membrane) recordDecisions() {
	var ids []string
	for id, src := range m.decided {
		if src == decidedGiven && m.patched[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	slices.Sort(ids)
	m.append(&entry{kind: KindMarker, marker: markerDecided, data: encodeIDs(ids)}, false, With{})
	for _, id := range ids {
		m.decided[id] = decidedLogged
	}
}

func encodeIDs(ids []string) []byte {
	var e codec.Encoder
	e.PutList(len(ids))
	for _, id := range ids {
		e.PutString(id)
	}
	return e.Bytes()
}

func decodeIDs(b []byte) ([]string, error) {
	d := codec.NewDecoder(b)
	n := d.ReadList()
	ids := make([]string, 0, n)
	for range n {
		ids = append(ids, d.ReadString())
	}
	return ids, d.Done()
}

func encodeID(id string) []byte {
	var e codec.Encoder
	e.PutString(id)
	return e.Bytes()
}

func decodeID(b []byte) (string, error) {
	d := codec.NewDecoder(b)
	id := d.ReadString()
	return id, d.Done()
}

// Patched implements flowimpl.Guest.
func (m *Membrane) Patched(id string) bool {
	m.check()
	if v, ok := m.patched[id]; ok {
		return v
	}
	if !m.live && m.cur < len(m.raw) {
		return m.replayPatched(id)
	}
	m.next() // goes live if the log is used up
	m.append(&entry{kind: KindMarker, marker: markerPatched, data: encodeID(id)}, false, With{})
	m.patched[id] = true
	return true
}

// replayPatched answers Patched from the log: the marker for id, found among
// the patch markers at the cursor (those before it are passed over), or a
// decision, or false.
func (m *Membrane) replayPatched(id string) bool {
	want := encodeID(id)
	for i := m.cur; i < len(m.raw); i++ {
		en, err := m.decodeAt(i)
		if err != nil || !isPatchMarker(en) {
			break
		}
		if en.marker == markerPatched && string(en.data) == string(want) {
			for m.cur < i {
				p, _ := m.decodeAt(m.cur)
				m.passMarker(p)
			}
			m.consume()
			m.patched[id] = true
			m.note(patchNote{id: id, value: true, how: patchMarker, step: en.step})
			return true
		}
	}
	step := m.raw[m.cur].Step
	if _, ok := m.decided[id]; ok {
		m.patched[id] = true
		m.note(patchNote{id: id, value: true, how: patchDecided, step: step})
		return true
	}
	m.patched[id] = false
	m.open = append(m.open, id)
	m.note(patchNote{id: id, value: false, how: patchNoMarker, step: step})
	return false
}

// patchNotes renders the Patched answers of a failed replay for its
// diagnostic.
func (m *Membrane) patchNotes() []string {
	if m.live || len(m.notes) == 0 {
		return nil
	}
	out := make([]string, len(m.notes))
	for i, n := range m.notes {
		out[i] = n.String()
	}
	return out
}
