package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// The sentinels carry no "strata:" prefix: run prints every error exactly
// once as "strata: <error>", so a prefix here would be printed twice.
var (
	// errBrokerUnreachable means no seed broker answered a Metadata request.
	errBrokerUnreachable = errors.New("cannot reach a Kafka broker")
	// errTopicNotFound means the broker does not know the topic.
	errTopicNotFound = errors.New("topic does not exist")
	// errUnsupported means the broker does not serve a request the command
	// needs (per its ApiVersions response).
	errUnsupported = errors.New("not supported by the broker")
	// errProduceFailed means at least one record was not acknowledged.
	errProduceFailed = errors.New("not every record was produced")
	// errLineTooLong means a stdin line exceeds --max-message-bytes.
	errLineTooLong = errors.New("line too long")
)

// usageError is a mistake in how a command was invoked (a bad flag value, a
// missing argument). run prints it with a pointer to the command's help.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError for cmd built like fmt.Errorf.
func usagef(cmd *cobra.Command, format string, args ...any) error {
	return &usageError{cmd: cmd, err: fmt.Errorf(format, args...)}
}

// withBrokerMessage appends the broker's free-text error message, when it sent
// one, to a Kafka error code (whose own text is "NAME: description").
func withBrokerMessage(err error, msg string) error {
	if err == nil || msg == "" || strings.Contains(err.Error(), msg) {
		return err
	}
	return fmt.Errorf("%w (broker: %s)", err, msg)
}
