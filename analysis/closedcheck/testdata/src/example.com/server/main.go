// Command server sets its configuration from the command line. // want package:"analysed"
package main

import (
	"flag"

	_ "example.com/billing"
	_ "example.com/locale" // want `flow Label reads settings.Symbol, which package locale writes at locale/locale.go:8:33`
	"example.com/settings"
)

func main() { // want main:`open: main\.main → flag\.Int`
	limit := flag.Int("limit", 100, "the quota")
	flag.Parse()
	settings.Limit = *limit // want `flow Quota reads settings.Limit, which package main writes at server/main.go:15:11: the value differs between incarnations`
	cfg := settings.Live()
	cfg.Burst = 20             // want `flow Burst reads settings.live, which package main writes at server/main.go:17:2`
	_ = settings.Default.Burst // read only: Fee stays closed
}
