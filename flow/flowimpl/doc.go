// Package flowimpl is for code flowgen generates and for runtimes; flow
// authors never import it. It holds the plumbing behind a generated file —
// the crossing functions guest proxies call ([Call], [Go], and [CallWith]
// and [GoWith] under a declared retry [Policy]), the decoding
// helpers that turn a value that no longer fits its logged bytes into a
// replay failure ([Results], [Decoded], [Arguments]), the encoding of host
// references ([PutProxy], [ReadProxy], [PutStartRef], [PutHostRef],
// [ReadHostObject]) — and the interfaces a runtime implements: the
// [Registry] generated Register and Provide functions take, and the [Guest]
// a flow's [flow.Context] carries.
//
// Like protobuf's protoimpl, it is public only because generated code in
// other modules must reach it. Its API follows the generator and may change
// with it: regenerate rather than call it by hand.
//
// Two rules hold for everything here. flowimpl imports flow, never the
// reverse, so a flow author's documentation lists only what flows use. And
// nothing here touches storage, so analysing or generating a flow package
// never loads the SQLite-backed runtime.
//
// # Encoding failures
//
// Arguments that do not encode — a cyclic value, a MarshalText that fails, a
// host-interface value a flow made itself instead of a guest proxy — are a
// mistake in the flow, not an answer from the world: no host was called and
// nothing is logged. [Call] and [Go] therefore react the same way, whatever
// the method's signature: they panic, naming the call. The runtime turns a
// flow's panic into a failed activation with its stack, retried in every
// new incarnation, like any bug a new build fixes. Returning an error
// instead would dress the mistake as a host's answer, which flows handle
// (retry, compensate) as if the world had spoken, and an async call has no
// error to return. On the host side, where a program calls [Start], a value
// that does not encode is an error of that call.
package flowimpl
