// Command strata-bench is Strata's load generator (package bench) as a
// standalone binary, so that it can be pointed at any Kafka-compatible
// broker and so that nothing in Strata imports the benchmark code.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/strata-io/strata/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := bench.Command()
	cmd.Use = "strata-bench"
	cmd.SilenceErrors = true // printed once below
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "strata-bench:", err)
		if ctx.Err() != nil {
			os.Exit(130) // interrupted, as a shell reports SIGINT, so scripts stop too
		}
		os.Exit(1)
	}
}
