// Package gen is flowgen as a library: it loads packages with go/packages,
// reads their //flowgen:host interfaces and //flowgen:flow functions into a
// small model (Package, HostInterface, Method, Flow, Param) and emits, with
// jennifer, the file flowgen_gen.go for each package: typed guest proxies
// and their async companions, service dispatchers and resolvers, flow
// handles and invokers, and the registration of the package's error
// sentinels. Generate computes files and writes nothing; cmd/flowgen writes
// them, or with -check compares them with what is on disk.
//
// Problems in the input are reported as
//
//	file:line:col: flowgen: <what> is not supported: <why>; <how to fix>
//
// The golden cases in testdata/golden show every supported shape and every
// refusal.
package gen
