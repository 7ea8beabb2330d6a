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
	// errGroupNotFound means the coordinator knows no group of that name.
	errGroupNotFound = errors.New("consumer group does not exist")
	// errGroupActive means the group has live members, so its offsets
	// cannot be changed from outside.
	errGroupActive = errors.New("consumer group is active")
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

// unknownSubcommand is the RunE of a command that only groups subcommands:
// without arguments it prints help, otherwise a usage error with the closest
// subcommand.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usagef(cmd, "%s", msg)
}
