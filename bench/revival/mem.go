package main

import goruntime "runtime"

type goMem struct{ heap uint64 }

func readMem(m *goMem) {
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	m.heap = ms.HeapInuse
}
