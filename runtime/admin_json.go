package runtime

import (
	"encoding/json"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// activationJSON is an ActivationInfo as JSON: what the admin handler
// serves and operators' scripts read. Ids are in their text form;
// registered and resident appear only where a runtime said.
type activationJSON struct {
	ID           string           `json:"id"`
	Flow         string           `json:"flow"`
	StartKey     string           `json:"start_key,omitempty"`
	State        State            `json:"state"`
	Registered   *bool            `json:"registered,omitempty"`
	Resident     *bool            `json:"resident,omitempty"`
	Outcome      string           `json:"outcome"`
	Created      time.Time        `json:"created,omitzero"`
	StateSince   time.Time        `json:"state_since,omitzero"`
	Finished     time.Time        `json:"finished,omitzero"`
	Changed      time.Time        `json:"changed,omitzero"`
	CreatedGen   int64            `json:"created_gen"`
	CreatedBuild string           `json:"created_build,omitempty"`
	Gen          int64            `json:"gen"`
	LastGen      int64            `json:"last_gen"`
	LastBuild    string           `json:"last_build,omitempty"`
	Failure      *diag.Diagnostic `json:"failure,omitempty"`
	Waits        []string         `json:"waits,omitempty"`
	Cursor       string           `json:"cursor"`
}

// MarshalJSON writes the activation with its ids as text.
func (i ActivationInfo) MarshalJSON() ([]byte, error) {
	j := activationJSON{ID: i.ID.String(), Flow: i.Flow, StartKey: i.StartKey, State: i.State, Outcome: i.Outcome.String(),
		Created: i.Created, StateSince: i.StateSince, Finished: i.Finished, Changed: i.Changed,
		CreatedGen: i.CreatedGen, CreatedBuild: i.CreatedBuild, Gen: i.Gen, LastGen: i.LastGen, LastBuild: i.LastBuild,
		Failure: i.Failure, Cursor: i.Cursor()}
	if i.live {
		j.Registered, j.Resident = &i.Registered, &i.Resident
	}
	for _, w := range i.Waits {
		j.Waits = append(j.Waits, w.String())
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (i *ActivationInfo) UnmarshalJSON(b []byte) error {
	var j activationJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	id, err := flow.ParseActivationID(j.ID)
	if err != nil {
		return err
	}
	out, err := flow.ParseVowID(j.Outcome)
	if err != nil {
		return err
	}
	*i = ActivationInfo{ID: id, Flow: j.Flow, StartKey: j.StartKey, State: j.State, Outcome: out,
		Created: j.Created, StateSince: j.StateSince, Finished: j.Finished, Changed: j.Changed,
		CreatedGen: j.CreatedGen, CreatedBuild: j.CreatedBuild, Gen: j.Gen, LastGen: j.LastGen, LastBuild: j.LastBuild,
		Failure: j.Failure}
	if j.Registered != nil {
		i.live, i.Registered = true, *j.Registered
	}
	if j.Resident != nil {
		i.Resident = *j.Resident
	}
	if i.Failure != nil {
		i.Failure.Activation = id
	}
	for _, w := range j.Waits {
		v, err := flow.ParseVowID(w)
		if err != nil {
			return err
		}
		i.Waits = append(i.Waits, v)
	}
	return nil
}

// Live reports whether a runtime filled in Registered and Resident: false
// for an Admin on a store alone, which has no registry.
func (i ActivationInfo) Live() bool { return i.live }
