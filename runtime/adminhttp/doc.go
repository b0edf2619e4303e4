// Package adminhttp is the admin handler a host program mounts to reach its
// running runtime from outside: the JSON API the asyncflow command speaks,
// and a web console for people who would rather look than read.
//
//	mux.Handle("/asyncflow/", http.StripPrefix("/asyncflow", adminhttp.Handler(rt.Admin(), adminhttp.Options{
//		Token: os.Getenv("ASYNCFLOW_ADMIN_TOKEN"),
//	})))
//
// It is off unless mounted, and never listens by itself: the host decides
// where it is served, and behind what. A running SQLite store is locked to
// its process, so this handler is the only way to act on it while it runs.
//
// # The token
//
// With Options.Token set, every request needs it: the API as a bearer token
// (Authorization: Bearer …), the console through a sign-in form that keeps a
// session cookie (HttpOnly, SameSite=Strict, holding a value derived from the
// token, never the token). Without a token, reads are open to whoever the host
// lets reach the handler, and mutations — retry, wake, cancel, terminate,
// purge — are refused: they always need it. So do a backup, which holds
// every argument and result the flows logged, and verify, which replays
// every unfinished activation.
//
// # The API
//
// Under the mount point, JSON in and out:
//
//	GET  api/activations?state=&flow=&build=&since=&until=&after=&limit=   a page, newest first, and the cursor of the next
//	GET  api/activations/{ref}                                             one activation: ref is its id, its outcome vow or its start key
//	GET  api/activations/{ref}/log                                         its timeline
//	GET  api/count?state=&flow=&build=&since=&until=&limit=                how many a filter selects
//	GET  api/failures                                                      every failed activation, with its diagnostic
//	GET  api/unregistered                                                  unfinished activations of flows this build does not register
//	POST api/activations/{ref}/retry|wake|cancel|terminate                 the activation after the operation (cancel takes reason=)
//	POST api/purge?before=                                                 newline-delimited progress, then the count
//	GET  api/backup                                                        a consistent copy of the store (a SQLite file), streamed
//	POST api/verify?workers=                                               the replay gate on the store with this build: a verify.Report
//
// Errors are {"error": "…", "code": "…"} with the status that fits:
// not_found (404), refused (409: the activation's state does not allow it,
// or only a running process can), bad_request (400), unauthorized (401),
// forbidden (403: mutations without a token), unavailable (503: the runtime
// is closing). [Client] speaks this API and turns the codes back into the
// runtime's errors, so errors.Is works across it.
package adminhttp
