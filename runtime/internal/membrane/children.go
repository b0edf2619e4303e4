package membrane

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// StartChild implements flowimpl.Guest: it starts an activation of the flow
// named flowName as a child of this one and returns the child's id and
// outcome vow. Live, the child is created in the same transaction as the
// entry that logs it, with an id derived from this activation's id and the
// entry's step, and the runtime runs it once that is durable. Replaying, the
// logged ids are handed back and nothing is started again.
func (m *Membrane) StartChild(flowName string, args []byte) (flow.ActivationID, flow.VowID) {
	m.check()
	did := crossing{op: opChild, name: flowName, args: args}
	if en := m.next(); en != nil {
		switch {
		case en.kind != KindChild:
			m.mismatch(en, did)
		case en.flow != flowName:
			m.diverge(en, diag.OtherCall, did)
		case !bytes.Equal(en.args, args):
			m.diverge(en, diag.OtherArguments, did)
		}
		m.consume()
		return en.child, en.vow
	}
	id := ChildID(m.act, int(m.run), m.step)
	outcome := ChildOutcome(id)
	m.append(&entry{kind: KindChild, flow: flowName, args: args, child: id, vow: outcome}, false,
		With{Child: &Child{ID: id, Flow: flowName, Args: args, Outcome: outcome}})
	return id, outcome
}

// ChildID is the id of the child an activation starts at a step of its
// log, in its run (each run that continued as new has a log of its own, from
// step 0). The first run's children have the ids they had before runs were
// counted.
func ChildID(parent flow.ActivationID, run int, step int64) flow.ActivationID {
	h := sha256.New()
	h.Write([]byte("asyncflow child\x00"))
	h.Write(parent[:])
	if run > 0 {
		_ = binary.Write(h, binary.BigEndian, int64(-run)) // no step is negative
	}
	_ = binary.Write(h, binary.BigEndian, step)
	var id flow.ActivationID
	copy(id[:], h.Sum(nil))
	return id
}

// ChildOutcome is the id of a child's outcome vow, derived from the
// child's id, so that a child created twice by the same step is the same
// activation with the same outcome.
func ChildOutcome(child flow.ActivationID) flow.VowID {
	h := sha256.Sum256(append([]byte("asyncflow child outcome\x00"), child[:]...))
	var id flow.VowID
	copy(id[:], h[:16])
	return id
}
