package leaf

import (
	"os"
	"time"
)

// Region has two causes: both are reported where it is called.
func Region() string { return os.Getenv("REGION") + time.Now().Location().String() } // want Region:`open: leaf\.Region → os\.Getenv`
