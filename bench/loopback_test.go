package bench

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMeasureLoopback(t *testing.T) {
	const d = 200 * time.Millisecond
	l, err := MeasureLoopback(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if l.Bytes <= 0 || l.MBPerSec <= 0 || l.WriteSize != loopbackWriteSize {
		t.Fatalf("loopback %+v: want positive bytes and MB/s", l)
	}
	if l.Elapsed < d {
		t.Fatalf("elapsed %v shorter than the %v the writer ran", l.Elapsed, d)
	}
	if want := mbPerSec(l.Bytes, l.Elapsed); l.MBPerSec != want {
		t.Fatalf("MBPerSec %v, want %v", l.MBPerSec, want)
	}
}

func TestMeasureLoopbackCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := MeasureLoopback(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled loopback: %v, want context.Canceled", err)
	}
}

func TestMeasureLoopbackCanceledMidStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := MeasureLoopback(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("loopback past its context: %v, want context.DeadlineExceeded", err)
	}
}

func TestRates(t *testing.T) {
	if got := mbPerSec(3_000_000, 2*time.Second); got != 1.5 {
		t.Fatalf("mbPerSec = %v, want 1.5 (10^6 bytes per MB)", got)
	}
	if got := perSec(10, 4*time.Second); got != 2.5 {
		t.Fatalf("perSec = %v, want 2.5", got)
	}
	if mbPerSec(1, 0) != 0 || perSec(1, 0) != 0 {
		t.Fatal("zero elapsed must give 0, not Inf")
	}
}
