package randomness // want package:"analysed"

import (
	crand "crypto/rand"
	"hash/maphash"
	"math/rand"
	randv2 "math/rand/v2"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:flow
func Dice(fc flow.Context) int { // want `flow Dice is not closed: Dice → rand.Intn: draws from the global random source` Dice:`open: randomness\.Dice → rand\.Intn`
	return rand.Intn(6) // want `rand.Intn: draws from the global random source; use flow.Random\(fc\), which replays`
}

//flowgen:flow
func DiceV2(fc flow.Context) int { // want `flow DiceV2 is not closed` DiceV2:`open: randomness\.DiceV2 → rand\.IntN`
	return randv2.IntN(6) // want `rand.IntN`
}

//flowgen:flow
func Shuffle(fc flow.Context, xs []int) []int { // want `flow Shuffle is not closed` Shuffle:`open: randomness\.Shuffle → rand\.Shuffle`
	rand.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] }) // want `rand.Shuffle`
	return xs
}

//flowgen:flow
func Token(fc flow.Context) []byte { // want `flow Token is not closed` Token:`open: randomness\.Token → rand\.Read`
	b := make([]byte, 16)
	_, _ = crand.Read(b) // want `rand.Read: reads randomness; use flow.Random\(fc\) or flow.UUID\(fc\), which replay`
	return b
}

//flowgen:flow
func Seeded(fc flow.Context, seed int64) int {
	r := rand.New(rand.NewSource(seed)) // a local seeded source is deterministic
	r.Shuffle(3, func(i, j int) {})
	return r.Intn(100)
}

//flowgen:flow
func SeededV2(fc flow.Context, seed uint64) int {
	r := randv2.New(randv2.NewPCG(seed, 0))
	return r.IntN(100)
}

//flowgen:flow
func Hash(fc flow.Context, s string) uint64 { // want `flow Hash is not closed` Hash:`open: randomness\.Hash → maphash\.String`
	return maphash.String(maphash.MakeSeed(), s) // want `maphash.String: hashes with a random seed` `maphash.MakeSeed: draws a random seed`
}
