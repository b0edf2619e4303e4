// Package sagalib is a small saga helper: compensations registered as a // want package:"analysed"
// flow goes, run in reverse when it fails.
package sagalib

import (
	"context"
	"errors"
)

// Saga keeps compensations.
type Saga struct {
	steps []func(ctx context.Context) error
	names []string
}

// Add registers a compensation.
func (s *Saga) Add(name string, undo func(ctx context.Context) error) { // want Add:`closed calls\(param 1 \) writes\[\-1\] stores\(\-1\.steps\[\] ← 1\) stores\(\-1\.names\[\] ← 0\)`
	s.steps = append(s.steps, undo)
	s.names = append(s.names, name)
}

// Compensate runs the compensations, last first, and joins their errors.
func (s *Saga) Compensate(ctx context.Context) error { // want Compensate:`closed calls\(param \-1\.steps\[\] \)`
	var errs []error
	for i := len(s.steps) - 1; i >= 0; i-- {
		if err := s.steps[i](ctx); err != nil {
			errs = append(errs, errors.New(s.names[i]+": "+err.Error()))
		}
	}
	return errors.Join(errs...)
}
