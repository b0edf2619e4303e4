// Package restarttest holds the flows, host interfaces and programs of the
// tests that restart real processes mid-way through a feature: a retry's
// backoff pending across kill -9 (retryprog), and continue-as-new across an
// upgrade. The tests build the programs, run them as separate processes on
// one store, kill them with SIGKILL, and read what the host's journal shows.
package restarttest
