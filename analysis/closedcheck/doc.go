// Package closedcheck defines an analyzer that proves flows are closed.
package closedcheck
