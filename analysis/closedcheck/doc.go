// Package closedcheck defines an analyzer that proves flows are closed.
//
// A flow (a function marked //flowgen:flow) is closed when everything it can
// reach of the world goes through the membrane: host interfaces (marked
// //flowgen:host) and the flow package. A flow that is not closed is the one
// way a correct upgrade gets stuck for no reason — or replays "successfully"
// against a different world. closedcheck checks each flow and every function,
// method and function literal it reaches by static calls, across packages.
//
// Run it on its own or through go vet:
//
//	closedcheck ./...
//	go vet -vettool=$(which closedcheck) ./...
//
// flowgen runs it before generating and refuses a flow that is not closed.
//
// # Diagnostics
//
// For each flow that is not closed there is a summary at its declaration,
// with the chain of calls from the flow to the first cause and its position:
//
//	flow Payout is not closed: Payout → fee → time.Now: reads the wall clock; use flow.Now(fc), at payout/fee.go:12:9
//
// and a diagnostic at every cause in the flow's package, or, for a cause in
// another package, at the call that leads to it. Code no flow reaches is
// never reported.
//
// # Rules
//
// Reported, wherever a flow reaches them:
//
//   - go statements.
//   - Channel sends and receives, select, range over a channel, close.
//     (Making a channel is harmless on its own; using one is reported.)
//   - The sync and sync/atomic packages: any function, method or type
//     method of theirs called (Mutex.Lock, WaitGroup.Wait, Once.Do,
//     atomic.AddInt64, atomic.Int64.Add, sync.Map…).
//   - Package-level variables that can change: reading or writing one of
//     the flow's own package that is written anywhere after initialisation
//     (assigned, incremented, an element or field assigned, its address
//     taken — including by calling a pointer-receiver method on it —, an
//     array sliced, or passed to delete, clear, copy, sort.* or slices.Sort*
//     and friends). Writes in init functions, and in functions only init
//     calls, are initialisation. A variable never written after
//     initialisation — a lookup table, a compiled regexp, a sentinel error —
//     is fine.
//   - Exported package variables, of any package: code in a package the flow
//     does not import (main, say) may write them, and facts cannot see that,
//     so they are "cannot prove closed". The exception is an error sentinel
//     — a variable of an error type (errors.New, fmt.Errorf, or a value of
//     an error type of its own) — never written in its package.
//   - A variable never written after initialisation whose initialisation is
//     not closed: var region = os.Getenv("REGION"), or a variable an init
//     function sets from the clock. It differs between incarnations.
//   - Wall clocks and timers: time.Now, Since, Until, Sleep, After,
//     AfterFunc, NewTimer, NewTicker, Tick, Timer and Ticker methods,
//     time.Local and Time.Local (the host's zone), time.LoadLocation (the
//     file system). Fixes rewrite time.Now() to flow.Now(fc) and
//     time.Sleep(d) to flow.Sleep(fc, d) where a flow.Context is in scope.
//   - Randomness: the global functions of math/rand and math/rand/v2,
//     crypto/rand, hash/maphash seeds.
//   - I/O and ambient authority: the packages os, os/exec, os/signal,
//     os/user, net, net/http (and below), net/rpc, net/smtp, syscall,
//     unsafe, plugin, runtime, runtime/debug, database/sql, expvar, flag,
//     io/ioutil's file functions, path/filepath's Abs, Glob, Walk, WalkDir
//     and EvalSymlinks, mime's system tables, fmt.Scan*, x509's system pool.
//   - context.Background, TODO, WithTimeout, WithDeadline (and their Cause
//     forms) and AfterFunc inside a flow: a flow uses its flow.Context and
//     races flow.After instead of deadlines.
//   - log.Fatal* (they end the host), log.Panic* and Logger.Fatal*/Panic*
//     (they unwind it), log.SetOutput, SetFlags, SetPrefix and
//     slog.SetDefault, SetLogLoggerLevel (they change the host's logger).
//   - Iteration in random order: range over a map, and maps.Keys, maps.Values
//     and maps.All unless sorted first (slices.Sorted, slices.SortedFunc, or
//     slices.Collect followed by a sort), or turned back into a map
//     (maps.Collect, maps.Insert); reflect's MapKeys and MapRange. A fix
//     rewrites a range over a map with ordered keys to a range over
//     slices.Sorted(maps.Keys(m)).
//   - Calls whose target cannot be known: through an exported interface that
//     is not a host interface (see below), through a function value that cannot be
//     resolved (a struct field, a map element, the result of an unknown
//     call, a package variable that can change), through a type parameter
//     whose instantiation is not known.
//   - Functions without a Go body, and functions of packages closedcheck
//     did not analyse.
//
// Allowed:
//
//   - Console output: fmt's Print functions, log's Print functions and
//     loggers, log/slog, writes to os.Stdout and os.Stderr. Console output
//     is not an effect and is never logged.
//   - The rest of the standard library: strings, strconv, bytes, sort,
//     slices, maps (sorted), math, errors, unicode, encoding/*, crypto hashes,
//     regexp, text/template, net/url, net/netip, net/mail, time arithmetic
//     and formatting, context.WithValue and WithCancel, …
//   - Local seeded random sources: rand.New(rand.NewSource(seed)) and
//     rand.New(rand.NewPCG(a, b)), and their methods. They are deterministic
//     given their seed; a seed taken from the clock is reported at the clock.
//   - Generics, closures over locals, method values on local values,
//     defer, recover and panic (a panic fails the activation with its stack).
//   - Host interfaces (including through an interface embedding one), the
//     flow package, and code flowgen generates (flowgen_gen.go).
//
// # Calls through values, interfaces and type parameters
//
// A function reached from a flow is judged by what it does; what it does
// with what it is given is an obligation its callers discharge:
//
//   - A function that calls a function parameter carries that obligation in
//     its fact; at each call, the argument is resolved: a function literal
//     (judged where it is written), a named function or method value (judged
//     as a call), a local variable assigned once, or the caller's own
//     parameter (the obligation moves up).
//   - A function that calls a method of an interface parameter carries that
//     obligation; at each call, the method of the argument's concrete type
//     is judged.
//   - A generic function that calls a method through a type parameter
//     carries that obligation; at each instantiation, the method of the type
//     argument is judged.
//   - The standard library may call any function and any interface method it
//     is given (sort.Sort calls Len, Less and Swap; fmt.Fprintf calls Write):
//     the concrete methods given to it are judged. Parameters of type any
//     are not followed (fmt may call String, Error or Format).
//
// A call through an unexported interface of the flow's own package is judged
// against every type of the package that implements it (a strategy chosen at
// run time): closed if each implementation's method is.
//
// Interfaces of the standard library (io.Writer, hash.Hash, context.Context,
// error, …) are trusted: a value of one can only reach a flow through code
// closedcheck has judged — a standard constructor, a variable, a host result
// (which crosses by copy and cannot be an interface). These methods are
// trusted on any interface, being conventionally pure: Error() string,
// String() string, GoString() string, Unwrap() error, Unwrap() []error,
// Is(error) bool.
//
// # Map iteration that is fine
//
// A range over a map is not reported when its result cannot depend on the
// order:
//
//	for range m { n++ }                       // no key or value used
//	for k := range m { keys = append(keys, k) }
//	sort.Strings(keys)                         // collected, then sorted
//	for k, v := range m {
//		total += v                             // integer accumulation
//		seen[v] = true                         // a constant under any key
//		byKey[k] = v * 2                       // keyed by the range key
//		if v > 10 { count++ }                  // under a pure condition
//		delete(m, k)
//	}
//
// Floating-point sums are order dependent (rounding) and reported, as are
// writes keyed by anything but the range key (two keys with one value: the
// last write wins, at random), early returns and breaks, and host calls.
//
// # Facts
//
// Verdicts cross packages as analysis facts. A function has a fact only when
// it says something: the function is not closed (the chain to its first
// cause), or it carries obligations for its callers. Each analysed package
// has a package fact, so a function of an analysed package without a fact
// is closed, and one of a package closedcheck did not analyse is "cannot
// prove closed". Host interfaces and exported error sentinels have facts
// of their own.
//
// # Suppression
//
// //closedcheck:ignore <reason> silences the line it is on; on a line of its
// own, it silences that line and the statement on the next line, all of it
// (a block); in a function's doc comment, the whole function, which then
// counts as closed for its callers. A directive without a reason is itself
// reported.
//
// # Configuration
//
// The -allow flag (and Config.Allow, through NewAnalyzer) lists functions,
// by types.Func.FullName, to treat as closed: a metrics counter, say.
// Config.Deny lists functions to report, with a reason.
//
// # Blind spots
//
// Known limits, each a deliberate trade between false alarms and misses:
//
//   - Writes to a package variable through another package cannot be seen;
//     hence the rule on exported variables. Writes through an alias made
//     inside the package (p := &v; *p = 1 is seen as the address escaping;
//     x := sliceVar; x[0] = 1 is not seen).
//   - A package-level slice or map passed to a user function that modifies
//     it is not seen as written (known standard mutators are).
//   - Calls within a cycle of recursive functions are resolved in rounds;
//     obligations that only appear through a cycle may be missed.
//   - Parameters of type any given to the standard library are not followed:
//     a MarshalJSON or String method with effects, called by encoding/json
//     or fmt, is missed.
//   - A trusted standard interface could hold a user type with effects if
//     the value was built by user code (var w io.Writer = myWriter{}): calls
//     through it are trusted.
//   - reflect can do anything; only MapKeys and MapRange are reported.
//   - An unexported interface is assumed to be implemented only by types of
//     its package; an exported function taking it could be given another
//     package's type.
//   - Third-party helpers that return map keys unsorted (golang.org/x/exp
//     maps.Keys) are reported even when the caller sorts the result.
//   - Console output interleaves differently on replay: it is not an effect.
package closedcheck
