package etcd

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
)

func TestZapBridge(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	quiet := new(atomic.Bool)
	zl := newZapLogger(logger, slog.LevelWarn, quiet).With(zap.String("member", "m0"))

	zl.Info("chatty", zap.Int("n", 1))
	zl.Warn("careful", zap.Int("n", 2), zap.Strings("urls", []string{"a", "b"}))
	zl.Error("failed to update storage version", zap.Error(errors.New("cannot detect storage schema version: missing term information")))
	zl.Error("failed to update storage version", zap.Error(errors.New("disk on fire")))
	quiet.Store(true)
	zl.Error("closing noise")

	out := buf.String()
	for _, want := range []string{
		`level=WARN msg=careful component=etcd member=m0 n=2 urls="[a b]"`,
		`level=ERROR msg="failed to update storage version" component=etcd member=m0 error="disk on fire"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"chatty", "missing term information", "closing noise"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("log has %q:\n%s", unwanted, out)
		}
	}
}
