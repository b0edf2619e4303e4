// Package faulty is one whose analysis meets a bug (a simulated one). // want package:`\) unanalysed: internal error in closedcheck \(simulated fault at closedcheck/[a-z_]+\.go:[0-9]+\); please report it\}$`
package faulty

import (
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Upper is closed, but after the fault nothing can say so.
func Upper(s string) string { return strings.ToUpper(s) } // want Upper:`^open: faulty.Upper: cannot prove closed: internal error in closedcheck \(simulated fault at closedcheck/[a-z_]+\.go:[0-9]+\); please report it$`

//flowgen:flow
func Shout(fc flow.Context, s string) string { return Upper(s) + "!" } // want `^flow Shout cannot be proved closed: internal error in closedcheck \(simulated fault at closedcheck/[a-z_]+\.go:[0-9]+\); please report it$` Shout:`^open: faulty.Shout: cannot prove closed: internal error in closedcheck \(simulated fault at closedcheck/[a-z_]+\.go:[0-9]+\); please report it$`
