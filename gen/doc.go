// Package gen is flowgen as a library: it loads packages with go/packages,
// reads their //flowgen:host interfaces and //flowgen:flow functions into a
// small model (Package, HostInterface, Method, Flow, Param) and emits, with
// jennifer, the file flowgen_gen.go for each package: typed guest proxies
// and their async companions, service dispatchers and resolvers, flow
// handles and invokers, and the registration of the package's error
// sentinels. Generate computes files and writes nothing; cmd/flowgen writes
// them, or with -check compares them with what is on disk.
//
// The work is in three steps, each reading only what the one before wrote.
// Parsing (parse.go) reads directives, through internal/directive, and
// declarations into the model. Checking (check.go) decides which types may
// cross the membrane — with the codec's own rules, codec.RefuseKind and its
// companions, so the generator refuses exactly what the codec could not
// encode — and lowers each parameter to how generated code writes and reads
// it (a Coding: the Encoder and Decoder methods, or reflection). Emitting
// (emit.go, with the guest side in emit_guest.go and the host side in
// emit_host.go) renders the model; it decides no codec call from go/types.
//
// The names the generated file declares are methods of the model
// (HostInterface.ProxyType, Flow.RegisterFunc, …), which the emitter uses
// and the collision check reads through Package.Declares. Inside generated
// functions users' parameter names are kept as written: the generator
// allocates its own locals around them (see scope), renames an import a
// user's name would hide, and replaces a user's name only where it would
// hide a type the generated code refers to.
//
// Problems in the input are reported as
//
//	file:line:col: flowgen: <what> is not supported: <why>; <how to fix>
//
// The golden cases in testdata/golden show every supported shape and every
// refusal.
package gen
