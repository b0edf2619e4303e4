package store

import (
	"fmt"

	"github.com/asyncflow-go/asyncflow/flow"
)

// LogSet gathers the logs of several activations from their entries read in
// activation and step order, as a LogReader reads them in one query, and
// marks a log whose steps are not 0, 1, 2, … corrupt.
type LogSet struct {
	where string
	logs  map[flow.ActivationID][]Entry
	bad   map[flow.ActivationID]error
}

// NewLogSet makes a LogSet for n logs; where begins its errors
// ("sqlitestore: log /path/to/store").
func NewLogSet(where string, n int) *LogSet {
	return &LogSet{where: where, logs: make(map[flow.ActivationID][]Entry, n), bad: map[flow.ActivationID]error{}}
}

// Add adds the next entry read of id's log.
func (l *LogSet) Add(id flow.ActivationID, e Entry) {
	if l.bad[id] != nil {
		return
	}
	log := l.logs[id]
	if e.Step != int64(len(log)) {
		l.bad[id] = fmt.Errorf("%s: %w: log of %s has step %d where %d was expected", l.where, ErrCorrupt, id, e.Step, len(log))
		return
	}
	l.logs[id] = append(log, e)
}

// Each calls fn as LogReader.Logs does: once for each of ids, in their
// order, with its log or why it is corrupt.
func (l *LogSet) Each(ids []flow.ActivationID, fn func(flow.ActivationID, []Entry, error)) {
	for _, id := range ids {
		if e := l.bad[id]; e != nil {
			fn(id, nil, e)
			continue
		}
		fn(id, l.logs[id], nil)
	}
}
