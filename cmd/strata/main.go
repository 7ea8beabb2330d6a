package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	// The first SIGINT/SIGTERM cancels the context so commands can stop
	// cleanly (flush, commit, leave the group); stop restores the default
	// handling so that a second Ctrl-C kills the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args with the given streams and returns the
// process exit status. Cancelling ctx is the same as pressing Ctrl-C. It is
// the entry point for main and for tests; it touches no global state other
// than reading the environment.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var ue *usageError
	switch {
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		err = errors.New("interrupted")
	case !errors.As(err, &ue) && strings.HasPrefix(err.Error(), "unknown command"):
		err = &usageError{cmd: cmd, err: err} // cobra's own error for a mistyped subcommand
	}
	printError(stderr, err)
	return 1
}

// printError prints err the one way every strata error is printed.
func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "strata: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) && ue.cmd != nil {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", ue.cmd.CommandPath())
	}
}

const rootLong = `Strata is a Kafka-compatible streaming broker that keeps the hot tail of each
partition on local disk and the rest in S3-compatible object storage.

This one binary runs the broker ('strata agent') and is also a Kafka
command-line client. The client commands speak the plain Kafka protocol, so
they work against any Kafka-compatible broker, not only Strata.

Client commands connect to --bootstrap-server (default localhost:9092, or
$STRATA_BOOTSTRAP_SERVER when set).`

const rootExample = `  # Run a single-node broker with local storage
  strata agent

  # Create a topic, write two records and read them back
  strata topic create orders --partitions 3
  printf 'k1:hello\nk2:world\n' | strata produce --topic orders --key-separator :
  strata consume --topic orders --from-beginning --max-messages 2 --print-key

  # Inspect it, and a consumer group's lag
  strata topic describe orders --output json
  strata group describe my-app`

// newRootCmd builds the whole command tree.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "strata",
		Short:         "Kafka-compatible streaming broker with tiered object storage",
		Long:          rootLong,
		Example:       rootExample,
		Version:       cliVersion(),
		SilenceErrors: true, // run prints errors once, in one format
		SilenceUsage:  true, // a runtime error is not a usage error
		// Completion scripts are not shipped; keep the command list focused.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{cmd: cmd, err: err}
	})
	root.AddCommand(
		newAgentCmd(),
		newEtcdCmd(),
		newTopicCmd(),
		newProduceCmd(),
		newConsumeCmd(),
		newGroupCmd(),
		newTxnCmd(),
		newClusterCmd(),
		newConfigCmd(),
		newLogDirsCmd(),
		newDeleteRecordsCmd(),
		newCostCmd(),
		newVersionCmd(),
	)
	return root
}
