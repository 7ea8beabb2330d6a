package bench

import (
	"math/rand/v2"
	"strconv"
)

const (
	// payloadPoolBytes is the least amount of distinct payload data a pool
	// holds: more than one 1 MiB batch, so a batch never repeats a payload
	// and compression sees realistic input.
	payloadPoolBytes = 4 << 20
	minPayloads      = 4
	maxPayloads      = 1 << 16
	vocabularySize   = 512
)

// payloadSeed fixes the payload bytes so that runs are reproducible.
var payloadSeed = [32]byte{'s', 't', 'r', 'a', 't', 'a', '-', 'b', 'e', 'n', 'c', 'h'}

// payloadPool is a set of pre-generated record values of one size. Values
// share one backing array and must not be modified. A payloadPool is safe
// for concurrent use.
type payloadPool struct {
	buf  []byte
	size int
	n    int
}

// newPayloadPool generates a pool of size-byte values: random bytes, or
// text-like bytes if compressible.
func newPayloadPool(size int, compressible bool) *payloadPool {
	n := (payloadPoolBytes + size - 1) / max(size, 1)
	n = min(max(n, minPayloads), maxPayloads)
	p := &payloadPool{buf: make([]byte, n*size), size: size, n: n}
	rng := rand.NewChaCha8(payloadSeed)
	if compressible {
		fillText(p.buf, rand.New(rng))
	} else {
		_, _ = rng.Read(p.buf) // never fails
	}
	return p
}

// value returns payload i mod n. The slice's capacity is its length, so an
// append cannot spill into the next payload.
func (p *payloadPool) value(i int64) []byte {
	j := int(i % int64(p.n))
	return p.buf[j*p.size : (j+1)*p.size : (j+1)*p.size]
}

// fillText fills buf with text that compresses like log lines: words drawn
// from a small vocabulary with a skewed distribution, numbers, spaces and a
// newline every few words.
func fillText(buf []byte, rng *rand.Rand) {
	vocab := make([][]byte, vocabularySize)
	for i := range vocab {
		w := make([]byte, 2+rng.IntN(9))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		vocab[i] = w
	}
	out := make([]byte, 0, len(buf)+32)
	for words := 0; len(out) < len(buf); words++ {
		switch {
		case words%12 == 11:
			out = append(out, '\n')
		case rng.IntN(8) == 0:
			out = strconv.AppendInt(out, int64(rng.IntN(100_000)), 10)
			out = append(out, ' ')
		default:
			u := rng.Float64()
			out = append(out, vocab[int(u*u*vocabularySize)]...)
			out = append(out, ' ')
		}
	}
	copy(buf, out)
}
