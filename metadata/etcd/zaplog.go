package etcd

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newZapLogger returns a zap logger, for etcd's server and client, that
// forwards entries at or above min (nil: slog.LevelError) to logger. etcd
// logs a lot at info level (every start, election and compaction), so the
// callers pass a high min: only what an operator must see reaches the
// agent's log. While quiet (if not nil) is set, only panics and fatal
// errors pass.
func newZapLogger(logger *slog.Logger, min slog.Leveler, quiet *atomic.Bool) *zap.Logger {
	if min == nil {
		min = slog.LevelError
	}
	return zap.New(&slogCore{logger: logger, min: min, quiet: quiet})
}

// slogCore is a zapcore.Core that writes to a slog.Logger. It is safe for
// concurrent use: it is immutable, and slog.Logger is safe.
type slogCore struct {
	logger *slog.Logger
	min    slog.Leveler
	quiet  *atomic.Bool
	attrs  []slog.Attr // from With
}

var _ zapcore.Core = (*slogCore)(nil)

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return slog.LevelDebug
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	}
	return slog.LevelError // Error, DPanic, Panic, Fatal
}

func (c *slogCore) Enabled(l zapcore.Level) bool {
	if c.quiet != nil && c.quiet.Load() && l < zapcore.DPanicLevel {
		return false
	}
	lv := slogLevel(l)
	return lv >= c.min.Level() && c.logger.Enabled(context.Background(), lv)
}

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	n := *c
	n.attrs = append(append([]slog.Attr(nil), c.attrs...), fieldAttrs(fields)...)
	return &n
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// benign maps messages that etcd logs at error level although nothing is
// wrong to the error text that marks the harmless case. Write drops them.
var benign = map[string]string{
	// A new single member is elected so fast that its storage-version
	// monitor runs before the first raft term reaches the database; it
	// retries a few seconds later and succeeds.
	"failed to update storage version": "missing term information",
}

func isBenign(e zapcore.Entry, fields []zapcore.Field) bool {
	marker, ok := benign[e.Message]
	if !ok || e.Level >= zapcore.DPanicLevel {
		return false
	}
	for _, f := range fields {
		if f.Type == zapcore.ErrorType {
			if err, ok := f.Interface.(error); ok && strings.Contains(err.Error(), marker) {
				return true
			}
		}
	}
	return false
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	if isBenign(e, fields) {
		return nil
	}
	attrs := make([]slog.Attr, 0, len(c.attrs)+len(fields)+2)
	attrs = append(attrs, slog.String("component", "etcd"))
	if e.LoggerName != "" {
		attrs = append(attrs, slog.String("logger", e.LoggerName))
	}
	attrs = append(attrs, c.attrs...)
	attrs = append(attrs, fieldAttrs(fields)...)
	c.logger.LogAttrs(context.Background(), slogLevel(e.Level), e.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }

// fieldAttrs converts zap fields to slog attributes through zap's map
// encoder, which understands every field type.
func fieldAttrs(fields []zapcore.Field) []slog.Attr {
	if len(fields) == 0 {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	attrs := make([]slog.Attr, 0, len(fields))
	for _, f := range fields {
		f.AddTo(enc)
		// Usually one key per field; inline fields add several.
		for k, v := range enc.Fields {
			attrs = append(attrs, slog.Any(k, v))
			delete(enc.Fields, k)
		}
	}
	return attrs
}
