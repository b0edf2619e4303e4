// Package faultuser has flows that reach a package whose analysis failed. // want package:`\) analysed\}$`
package faultuser

import (
	"strings"

	"example.com/faulty"
	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:flow
func Loud(fc flow.Context, s string) string { return faulty.Upper(s) } // want `^flow Loud is not closed: Loud → faulty.Upper: cannot prove closed: internal error in closedcheck \(simulated fault at closedcheck/[a-z_]+\.go:[0-9]+\); please report it, at faulty/faulty.go:11:6$` `^faulty.Upper is not closed: faulty.Upper: cannot prove closed: internal error in closedcheck \(simulated fault at closedcheck/[a-z_]+\.go:[0-9]+\); please report it, at faulty/faulty.go:11:6 \(flow Loud: Loud → faulty.Upper\)$` Loud:`^open: faultuser.Loud → faulty.Upper: cannot prove closed`

//flowgen:flow
func Quiet(fc flow.Context, s string) string { return strings.ToLower(s) }
