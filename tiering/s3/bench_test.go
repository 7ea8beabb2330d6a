package s3

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/strata-io/strata/tiering/s3test"
)

// benchSize is the object size of the throughput benchmarks: a segment.
const benchSize = 64 << 20

// BenchmarkVersityPut measures raw PUT throughput of a 64 MiB object to a
// local versitygw, in 16 MiB parts, 4 at a time (the defaults).
func BenchmarkVersityPut(b *testing.B) {
	srv := s3test.Start(b)
	cfg := configFor(srv)
	cfg.PartSize = DefaultPartSize
	s := openStore(b, cfg)
	data := make([]byte, benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Put(b.Context(), "bench/obj", bytes.NewReader(data), benchSize); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVersityGet measures raw GET throughput of a 64 MiB object from
// a local versitygw: one GET streaming the whole object, and the object
// split into ranged GETs run in parallel, as a read-ahead reader could.
func BenchmarkVersityGet(b *testing.B) {
	srv := s3test.Start(b)
	s := openStore(b, configFor(srv))
	if err := s.Put(b.Context(), "bench/obj", bytes.NewReader(make([]byte, benchSize)), benchSize); err != nil {
		b.Fatal(err)
	}
	for _, streams := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			part := int64(benchSize / streams)
			bufs := make([][]byte, streams)
			for i := range bufs {
				bufs[i] = make([]byte, 1<<20)
			}
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				var wg sync.WaitGroup
				errs := make([]error, streams)
				for i := range streams {
					wg.Go(func() {
						rc, err := s.Get(b.Context(), "bench/obj", int64(i)*part, part)
						if err == nil {
							_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{rc}, bufs[i])
							rc.Close()
						}
						errs[i] = err
					})
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
