// Package gen is flowgen as a library: it loads packages with go/packages,
// reads their //flowgen:host interfaces and //flowgen:flow functions into a
// small model (Package, HostInterface, Method, Flow, Param) and emits, with
// jennifer, the file flowgen_gen.go for each package: typed guest proxies
// and their async companions, service dispatchers and resolvers, flow
// handles and invokers, the Child function that starts a flow as a child of
// another, the typed senders and status readers of flows with flow.Signal
// and flow.Status parameters, and the registration of the package's error
// sentinels. Generate computes files and writes nothing; cmd/flowgen writes
// them, or with -check compares them with what is on disk.
//
// The work is in three steps, each reading only what the one before wrote.
// Parsing (parse.go) reads directives, through internal/directive, and
// declarations into the model; a flow's signals and statuses (talk.go) are
// parameters named after their durable names, which Start leaves out. Checking (check.go) decides which types may
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
// A flow's durable name is <package name>.<Func>, or what its directive
// sets: //flowgen:flow name=shop.Fulfil. It is what ties a log to code, so
// it is the one name generated code spells as a string (the handle's
// Register passes it to the runtime); the testdata/golden durable_names case
// shows it.
//
// Besides //flowgen:host and //flowgen:flow, a host interface or one of its
// methods may declare how failed calls are made again and how long each
// attempt may take, with //flowgen:retry and //flowgen:timeout (see
// policy.go and flow.RetryPolicy); the proxy then crosses with the declared
// policy, a package-level flowimpl.Policy.
//
// Problems in the input are reported as
//
//	file:line:col: flowgen: <what> is not supported: <why>; <how to fix>
//
// Notes (inline.go) fail nothing: a flow that calls another flow's function
// directly runs it inline, in its own log, and is pointed to the callee's
// Child function, which starts it as an activation of its own.
//
// The golden cases in testdata/golden show every supported shape and every
// refusal.
package gen
