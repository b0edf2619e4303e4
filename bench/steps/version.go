package main

import (
	goruntime "runtime"
)

func goVersion() string { return goruntime.Version() }
func gomaxprocs() int   { return goruntime.GOMAXPROCS(0) }
