package gen

import (
	"go/token"
	"go/types"
)

// Package is what flowgen generates for: one Go package's host interfaces,
// flows and error sentinels.
type Package struct {
	Name   string // package name
	Path   string // import path
	Dir    string
	Out    string // path of the generated file
	Types  *types.Package
	Hosts  []*HostInterface // in source order
	Flows  []*Flow          // in source order
	Errors []*ErrorVar      // exported Err… sentinels, in source order
}

// HostInterface is an interface marked //flowgen:host.
type HostInterface struct {
	Name    string // Go name
	Durable string // durable name: the resolver name of its keyed objects
	Methods []*Method
	Pos     token.Position
	Type    *types.Named
	// PkgPath is the import path of an interface declared in another
	// package (whose flowgen output declares <Name>Host); empty for this
	// package's own.
	PkgPath string
}

// Method is one method of a host interface, embedded ones included.
type Method struct {
	Name     string
	Params   []*Param // after the context.Context
	Results  []*Param // before the trailing error
	HasError bool
	Variadic bool
	Pos      token.Position
}

// Flow is a function marked //flowgen:flow.
type Flow struct {
	Name     string   // Go name
	Durable  string   // durable name
	Params   []*Param // after the flow.Context
	Result   *Param   // the non-error result, or nil
	HasError bool
	Variadic bool
	Pos      token.Position
}

// ParamKind says how a value crosses.
type ParamKind int

const (
	// KindValue crosses by copy through the codec.
	KindValue ParamKind = iota
	// KindHost is a host interface: it crosses as a reference.
	KindHost
)

// Param is a parameter or result.
type Param struct {
	Name string
	Type types.Type
	Kind ParamKind
	Host *HostInterface // for KindHost
}

// ErrorVar is an exported package-level error sentinel named Err….
type ErrorVar struct {
	Name string
	Code string
}
