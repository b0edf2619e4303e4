// Package closedcheck defines an analyzer that proves flows are closed.
//
// A flow (a function marked //flowgen:flow) is closed when everything it can
// reach of the world goes through the membrane: host interfaces (marked
// //flowgen:host) and the flow package. A flow that is not closed is the one
// way a correct upgrade gets stuck for no reason — or replays "successfully"
// against a different world. closedcheck checks each flow and every function,
// method and function literal it reaches, across packages.
//
// Run it on its own or through go vet:
//
//	closedcheck ./...
//	go vet -vettool=$(which closedcheck) ./...
//
// Both print the same diagnostics, as file:line:col: message with paths
// relative to the current directory, and exit with status 1 when a flow is
// not closed. go vet analyses every dependency from source, one process per
// package. On its own, closedcheck loads the packages named from source and
// their dependencies from export data: a dependency the flows turn out to
// reach is then loaded from source too, and the analysis runs again (see
// package driver); packages of the standard library named are dropped. flowgen runs it before generating and refuses a flow
// that is not closed.
//
// # Diagnostics
//
// For each flow that is not closed there is a summary at its declaration,
// with the chain of calls from the flow to the first cause and its position,
// and how many more causes there are:
//
//	flow Payout is not closed: Payout → fee → time.Now: reads the wall clock; use flow.Now(fc), at payout/fee.go:12:9
//
// and a diagnostic at every cause in the flow's package, or, for a cause in
// another package, at the call that leads to it — one for each cause behind
// that call, so that fixing one does not reveal the next in another run.
// Code no flow reaches is never reported.
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
//   - Package state that can change: see Package variables below.
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
//     (they unwind it), log.SetOutput, SetFlags, SetPrefix, slog.SetDefault,
//     SetLogLoggerLevel and log.Default().SetOutput (they change the host's
//     logger).
//   - Loggers that keep wall-clock timestamps in the process: see Console
//     output below.
//   - Iteration in random order: see Map order below.
//   - Calls whose target cannot be known: see Calls through values below.
//   - Functions without a Go body, and functions of packages closedcheck
//     did not analyse.
//
// Allowed:
//
//   - Console output: fmt's Print functions, log's Print functions and
//     loggers, log/slog, writes to os.Stdout and os.Stderr.
//   - The rest of the standard library: strings, strconv, bytes, sort,
//     slices, maps (in an order-free way), math, errors, unicode,
//     encoding/* (encoding/json and fmt print maps in key order), crypto
//     hashes, regexp, text/template, net/url, net/netip, net/mail, time
//     arithmetic and formatting, context.WithValue and WithCancel, …
//   - Local seeded random sources: rand.New(rand.NewSource(seed)) and
//     rand.New(rand.NewPCG(a, b)), and their methods. They are deterministic
//     given their seed; a seed taken from the clock is reported at the clock.
//   - Generics, closures, methods, defer, recover and panic (a panic fails
//     the activation with its stack).
//   - Host interfaces (including through an interface or a struct embedding
//     one), the flow package (and flow/codec, flow/flowimpl), and code
//     flowgen generates (flowgen_gen.go).
//
// # Package variables
//
// Reading or writing a package variable that can change between
// incarnations makes a flow not closed. Which variables can change:
//
//   - One its own package writes after initialisation: assigned,
//     incremented, an element or field assigned, its address taken where
//     the analysis cannot follow it (given to the standard library, stored
//     in a structure), a pointer method that writes its receiver called on
//     it, an array sliced, passed to delete, clear, copy, sort.* or
//     slices.Sort* and friends, or to a function that writes what it is
//     given. Writes in init functions, and in functions only init calls, are
//     initialisation — but not those in the function literals they store
//     for later (a handler init puts in a table writes when it is called).
//   - Writes through aliases count: a local holding the variable's memory
//     (x := pkgSlice; x[0] = 1, c := pkgStruct; c.Tags[0] = "x"), a
//     package-level pointer to it (var live = &cfg; live.Limit = 1), what a
//     function returning its memory gives (Current().Limit = 1), what a
//     standard function returns of its first argument (b :=
//     bytes.TrimSpace(pkgBuf); b[0] = 'x'; a copy, bytes.Clone, is not). A
//     copy of a value without pointers is not an alias (c := pkgStruct;
//     c.Limit = 1 leaves pkgStruct as it is). Which parameters a function writes through
//     and which package memory it returns travel in facts.
//   - One never written after initialisation whose initialisation is not
//     closed: var region = os.Getenv("REGION"), a variable an init function
//     sets from the clock, a function literal called in an initializer that
//     reads the environment. (A function literal an initializer only stores,
//     a table of handlers say, is judged where it is called.)
//   - Error sentinels (variables of an error type never written) are fine.
//
// Exported variables nothing visible writes — configuration defaults,
// compiled regular expressions, tables, constant-like names — are closed to
// read, wherever the flow is. But a flow only runs inside a program, and
// every package linked into a program is a dependency of its main (or test)
// package: there the whole program is visible. So the analysis records, as
// facts, which variables each flow reads that other packages could write,
// and which packages write variables of other packages (and which tests
// write their own package's); at a main or test package, a flow reading a
// variable its program writes is reported, at the write when the package
// makes it, else at the import through which it comes:
//
//	cmd/app/main.go:11:22: flow Capped reads config.Cap, which package main writes at app/main.go:11:22: the value differs between incarnations; pass it to the flow as an argument (the flow is at shop/shop.go:36:6)
//
// A variable's own package writing it (a setter) is reported at the flow,
// as for unexported variables. What a library analysed without any main or
// test package that links it loses: writes made by programs that are not in
// the analysed set are not seen, and its flows' reads of exported variables
// are taken as closed. Writes by packages outside the standalone command's
// source set (dependencies seen through export data only) are not seen
// either; go vet sees them.
//
// # Calls through values, interfaces and type parameters
//
// The analysis traces what a function value or an interface value can be,
// through locals (every value assigned, not only the first), parameters
// (the caller's arguments), fields and elements of composite literals,
// range values, the return statements of the package's functions, package
// variables never written after initialisation (their initializer and what
// initialisation stores in them), and what callees store into what they
// are given (a saga's s.Add(undo) makes undo an element of s's steps, a
// registry's Register(name, h) a handler of it). What it cannot trace is
// judged as follows:
//
//   - A function value: a function literal is judged where it is written
//     (and, written in another function and called here, here too); a named
//     function or method is judged as a call (a method expression, T.M or
//     I.M, as a call of the method on its first argument); a parameter is
//     an obligation its callers discharge with what they pass; a parameter
//     of a function literal called where it is written holds its argument.
//     A function value held by a
//     field of a value another package made (a client a constructor
//     returned) is what that package's code stores in that field, from its
//     type's fact; a function parameter stored in a field is an obligation
//     of the function storing it, as if it called it. Anything else — a
//     field of a struct the flow is given, a package variable that can
//     change, a table whose contents cannot be known — is "cannot prove
//     closed".
//   - A method through an interface: the methods of the dynamic types the
//     value can have — from composite literals, conversions, the return
//     statements of factories in this package, or, for factories of other
//     packages, their facts (the verdict of each method of the interface
//     they return, over the types they return). Where the value's origin
//     cannot be traced (a parameter of the flow, an element of a slice it is
//     given, a field of a tree's node), an unexported interface of the
//     package is judged against its types implementing it, and an exported
//     one against every implementation the program shows — the types of
//     every package visible from the flow's, and those the package facts
//     list (with unexported types an importer cannot see) — at the flow:
//     the obligation moves up the call chain to it, since the flow's package
//     sees more implementations than a library's. An interface no visible
//     type implements is "cannot prove closed". Recursive interfaces (a
//     tree whose nodes call the same method on their children) are judged
//     once per method.
//   - A method through a type parameter: an obligation resolved at each
//     instantiation.
//   - The standard library may call any function and any interface method
//     it is given (sort.Sort calls Len, Less and Swap; fmt.Fprintf calls
//     Write): the concrete methods given to it are judged. Parameters of
//     type any are not followed (fmt may call String, Error or Format).
//
// Interfaces of the standard library (io.Writer, hash.Hash, context.Context,
// error, …) are trusted: a value of one can only reach a flow through code
// closedcheck has judged. These methods are trusted on any interface, being
// conventionally pure: Error() string, String() string, GoString() string,
// Unwrap() error, Unwrap() []error, Is(error) bool.
//
// # Iterators
//
// A range over a function (iter.Seq, iter.Seq2, or any func(yield func(…)
// bool)) is a call of the function with the loop body as yield: the
// iterator's code is judged as a call, and the body where it is written.
// Calls of yield inside an iterator literal are the loop bodies of its
// consumers. An iterator over a slice is closed. An iterator literal that
// yields a map's entries (for k, v := range m { if !yield(k, v) { return }
// }) yields in map order: the function returning it says so in its fact,
// and the order is judged where the iterator is consumed — an order-free
// loop (the bodies accepted over maps, below), a sort (slices.Sorted,
// slices.SortedFunc with a comparator that erases the order),
// slices.Collect followed by such a sort, maps.Collect or maps.Insert erase
// it; a function given the iterator erases it if its own range over it is
// order-free; anything else keeps it and is reported. maps.Keys, maps.Values
// and maps.All are such iterators.
//
// # Map order
//
// A range over a map is reported unless its result cannot depend on the
// order:
//
//	for range m { n++ }                       // no key or value used
//	for k := range m { keys = append(keys, k) }
//	sort.Strings(keys)                         // collected, then sorted
//	for k := range m { keys[i] = k; i++ }      // collected by index, then sorted
//	sort.Strings(keys)
//	for k, v := range m {
//		total += v                             // integer accumulation
//		seen[v] = true                         // a constant under any key
//		byKey[k] = v * 2                       // keyed by the range key
//		if v > 10 { count++ }                  // under a pure condition
//		hi = max(hi, v)                        // an extreme
//		delete(m, k)
//	}
//
// The index form needs the counter bumped once, in the same block as the
// element is stored, and used for nothing else in the loop. Floating-point
// sums are order dependent (rounding) and reported, as are writes keyed by
// anything but the range key (two keys with one value: the last write wins,
// at random), an argmax (ties pick whichever comes first), early returns and
// breaks, and host calls. A fix rewrites a range over a map with ordered
// keys to a range over slices.Sorted(maps.Keys(m)).
//
// # Sorting
//
// A sort erases the order a slice was filled in only if elements it cannot
// tell apart are equal: sort.Strings, sort.Ints, sort.Float64s,
// slices.Sort, sort.StringSlice and the like compare whole elements; a
// comparator (slices.SortFunc, slices.SortedFunc, sort.Slice, the Less of a
// sort.Interface of this package) erases the order when it compares the
// whole element, every field of a struct element, or the field the map's
// key was stored in (which is unique). A comparator that compares part of
// each element — a priority, a length — can tie, and ties keep the map's
// random order: the map's iteration is reported. Stable sorts are judged
// the same way.
//
// # Console output
//
// Console output is not an effect: it leaves the process and replay never
// reads it back. Text the flow keeps is different: a logger writing into a
// buffer, a builder or a value of the program's own (log.New(&buf, prefix,
// log.LstdFlags), a Logger given such a writer by SetOutput or time flags by
// SetFlags, slog.NewTextHandler or NewJSONHandler on one without a
// ReplaceAttr that may drop slog.TimeKey) puts the wall clock into data the
// flow can read, and is reported. Flags without Ldate, Ltime or
// Lmicroseconds, and writers the analysis cannot trace, are not.
//
// # Facts
//
// Verdicts cross packages as analysis facts. A function has a fact only when
// it says something: it is not closed (every cause, the first one first),
// carries obligations for its callers, reads variables the whole program
// must check, writes or stores into what it is given, returns package
// memory, returns an iterator in map order, or returns interfaces whose
// methods are not closed. Each analysed package has a package fact, so a
// function of an analysed package without a fact is closed, and one of a
// package closedcheck did not analyse is "cannot prove closed". The package
// fact also carries, for the packages below it, the flows' reads and the
// writes the whole program checks, and the implementations of exported
// interfaces. Host interfaces, exported variables (sentinels, variables
// their package writes, tables of functions) and struct types with function
// fields have facts of their own.
//
// # When a package cannot be analysed
//
// The analysis of a package never fails the packages above it. A package
// whose function bodies were not type-checked (go/packages type-checks
// only the declarations of a package it loads from source because it lies
// between two packages named; the standalone command names such packages
// itself), or whose analysis met an inconsistency it did not expect (a
// bug), is degraded: its package fact says why, each of its functions
// cannot be proved closed for that reason, its own flows are reported with
// it, and what reaches it from other packages is reported as not closed:
//
//	flow Loud is not closed: Loud → faulty.Upper: cannot prove closed: internal error in closedcheck (…); please report it, at faulty/faulty.go:11:6
//
// The analysis bounds its own recursion, so a bug that would recurse
// without end (Go cannot recover from a stack overflow) degrades the
// package too.
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
//   - The whole-program rule sees the programs in the analysed set only (see
//     Package variables).
//   - Writes through pointers the analysis loses track of: a package
//     variable's address stored in a structure of another package, or
//     kept by a function value; unsafe.
//   - Function values stored in a field of a struct by code of another
//     package than the type's (an exported field set by an importer) are not
//     seen by the type's fact.
//   - A function value given to a function literal's parameter is not
//     traced: a call of it is "cannot prove closed" — unless the literal is
//     called where it is written (func(f func() int) int { return f() }(g)),
//     whose parameters are then its arguments, or it is an iterator
//     literal's yield.
//   - A function that calls what it is given, itself passed as a function
//     value (Apply(MapSlice[string, int], xs, f)), is "cannot prove
//     closed": what it will be given there is not traced.
//   - A call through an instance of a generic interface (Visitor[T])
//     whose value cannot be traced is "cannot prove closed": the
//     implementations of generic interfaces are not searched for.
//   - Calls within a cycle of recursive functions are resolved in rounds;
//     obligations that only appear through a cycle may be missed.
//   - Parameters of type any given to the standard library are not followed:
//     a MarshalJSON or String method with effects, called by encoding/json
//     or fmt, is missed.
//   - A trusted standard interface could hold a user type with effects if
//     the value was built by user code (var w io.Writer = myWriter{}): calls
//     through it are trusted.
//   - reflect can do anything; only Call, CallSlice, MapKeys and MapRange
//     are reported.
//   - An unexported interface is assumed to be implemented only by types of
//     its package; implementations are looked for among named types (a type
//     of the standard library implementing a user's interface is not).
//   - Third-party helpers that return map keys unsorted (golang.org/x/exp
//     maps.Keys) are reported even when the caller sorts the result.
//   - Console output interleaves differently on replay: it is not an effect.
package closedcheck
