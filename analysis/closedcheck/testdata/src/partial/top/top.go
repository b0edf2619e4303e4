// Package top has a flow that calls middle.
package top

import (
	"github.com/asyncflow-go/asyncflow/flow"

	"partial/middle"
)

//flowgen:flow
func Digest(fc flow.Context, s string) string { return middle.Hash(s) }
