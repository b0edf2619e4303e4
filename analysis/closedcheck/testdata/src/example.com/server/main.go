// Command server sets its configuration from the command line. // want package:"analysed"
package main

import (
	"flag"

	_ "example.com/billing"
	"example.com/settings"
)

func main() { // want main:`open: main\.main → flag\.Int`
	limit := flag.Int("limit", 100, "the quota")
	flag.Parse()
	settings.Limit = *limit // want `flow Quota reads settings.Limit, which package main writes at server/main.go:14:11: the value differs between incarnations`
	cfg := settings.Live()
	cfg.Burst = 20             // want `flow Burst reads settings.live, which package main writes at server/main.go:16:2`
	_ = settings.Default.Burst // read only: Fee stays closed
}
