package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newTxnCmd builds `strata txn` and its subcommands, which share one set of
// connection flags.
func newTxnCmd() *cobra.Command {
	co := &clientOptions{}
	cmd := &cobra.Command{
		Use:     "txn",
		Aliases: []string{"transactions"},
		Short:   "List and describe transactional producers",
		Long: `Inspect the transactions of any Kafka-compatible cluster: list the
transactional ids its transaction coordinators know, with their state and
producer id, and describe them: producer epoch, timeout, when the current
transaction started and which partitions it writes.

A transaction that stays Ongoing longer than its timeout is aborted by its
coordinator; one stuck in PrepareCommit or PrepareAbort is waiting for its
markers to be written.

The connection flags below apply to every txn subcommand.`,
		Example: `  strata txn list
  strata txn list --state Ongoing,PrepareCommit
  strata txn describe my-app-0 my-app-1 --output json`,
		Args: cobra.ArbitraryArgs,
		RunE: unknownSubcommand,
	}
	cmd.SuggestionsMinimumDistance = 2
	co.addFlags(cmd.PersistentFlags())
	cmd.AddCommand(newTxnListCmd(co), newTxnDescribeCmd(co))
	return cmd
}

// txnStates are the transaction states Kafka defines, keyed by their
// lower-case spelling.
var txnStates = map[string]string{
	"empty":             "Empty",
	"ongoing":           "Ongoing",
	"preparecommit":     "PrepareCommit",
	"prepareabort":      "PrepareAbort",
	"completecommit":    "CompleteCommit",
	"completeabort":     "CompleteAbort",
	"dead":              "Dead",
	"prepareepochfence": "PrepareEpochFence",
}

// parseTxnStates parses --state values (comma-separated or repeated,
// case-insensitive) into Kafka's spelling, sorted and without duplicates.
func parseTxnStates(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for s := range strings.SplitSeq(v, ",") {
			canon, ok := txnStates[strings.ToLower(strings.TrimSpace(s))]
			if !ok {
				return nil, fmt.Errorf("--state %q: want one of Empty, Ongoing, PrepareCommit, PrepareAbort, "+
					"CompleteCommit, CompleteAbort, Dead, PrepareEpochFence", s)
			}
			if !slices.Contains(out, canon) {
				out = append(out, canon)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// txnSummary is one row of `strata txn list`.
type txnSummary struct {
	TransactionalID string `json:"transactional_id"`
	State           string `json:"state"`
	ProducerID      int64  `json:"producer_id"`
	Coordinator     int32  `json:"coordinator"` // node ID of the transaction's coordinator
}

func newTxnListCmd(co *clientOptions) *cobra.Command {
	var (
		states      []string
		producerIDs []int64
		output      string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List transactional ids",
		Long: `List the transactional ids of the cluster (ListTransactions, asked of every
broker) with their state, producer id and coordinator.

--state keeps only transactions in the given states: Empty, Ongoing,
PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead,
PrepareEpochFence; case-insensitive, comma-separated or repeated.
--producer-id keeps only those of the given producer ids.`,
		Example: `  strata txn list
  strata txn list --state ongoing
  strata txn list --producer-id 4000 --output json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			filter, err := parseTxnStates(states)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			for _, id := range producerIDs {
				if id < 0 {
					return usagef(cmd, "--producer-id %d: producer ids are >= 0", id)
				}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				txns, err := listTxns(ctx, adm, filter, producerIDs)
				if txns == nil { // nothing listed; with a partial list, print it before the error
					return err
				}
				if perr := printTxnList(cmd.OutOrStdout(), format, txns); perr != nil {
					return perr
				}
				return err
			})
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only transactions in these states (comma-separated or repeated)")
	cmd.Flags().Int64SliceVar(&producerIDs, "producer-id", nil, "only transactions of these producer ids (comma-separated or repeated)")
	cmd.Flags().StringVarP(&output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

// listTxns lists the transactions matching the filters (all if none),
// sorted by transactional id. If some brokers did not answer, it returns
// those of the brokers that did (never nil) together with an error;
// otherwise an error comes with nil.
func listTxns(ctx context.Context, adm *kadm.Client, states []string, producerIDs []int64) ([]txnSummary, error) {
	if _, err := requireAPIs(ctx, adm, "listing transactions", kmsg.ListTransactions); err != nil {
		return nil, err
	}
	listed, err := adm.ListTransactions(ctx, producerIDs, states)
	var se *kadm.ShardErrors
	switch {
	case errors.As(err, &se):
		err = fmt.Errorf("list transactions: not every broker answered, the list may be incomplete: %w", err)
	case err != nil:
		return nil, fmt.Errorf("list transactions: %w", err)
	}
	out := make([]txnSummary, 0, len(listed))
	for _, l := range listed.Sorted() {
		// Filter here too, in case the broker ignored a filter.
		if (len(states) > 0 && !slices.Contains(states, l.State)) || (len(producerIDs) > 0 && !slices.Contains(producerIDs, l.ProducerID)) {
			continue
		}
		out = append(out, txnSummary{TransactionalID: l.TxnID, State: l.State, ProducerID: l.ProducerID, Coordinator: l.Coordinator})
	}
	return out, err
}

// printTxnList prints transactions in format.
func printTxnList(w io.Writer, format outputFormat, txns []txnSummary) error {
	if format == outputJSON {
		if txns == nil {
			txns = []txnSummary{}
		}
		return writeJSON(w, txns)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TRANSACTIONAL-ID\tSTATE\tPRODUCER-ID\tCOORDINATOR")
	for _, x := range txns {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", x.TransactionalID, dash(x.State), x.ProducerID, x.Coordinator)
	}
	return tw.Flush()
}

// txnDescription is one transactional id of `strata txn describe`, a
// stable shape for scripts.
type txnDescription struct {
	TransactionalID string `json:"transactional_id"`
	State           string `json:"state"`
	ProducerID      int64  `json:"producer_id"`
	ProducerEpoch   int16  `json:"producer_epoch"`
	TimeoutMS       int32  `json:"timeout_ms"`
	// StartTime is when the current (or last) transaction started, RFC
	// 3339 in UTC; "" before the first.
	StartTime   string `json:"start_time"`
	Coordinator int32  `json:"coordinator"`
	// Partitions are those of the ongoing or completing transaction.
	Partitions []topicAssignment `json:"partitions"`
}

func newTxnDescribeCmd(co *clientOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "describe [TRANSACTIONAL-ID...]",
		Short: "Show the state of transactional ids",
		Long: `Show, for each transactional id (DescribeTransactions, asked of its
coordinator): its state, producer id and epoch, transaction timeout, when
its current (or last) transaction started, its coordinator, and the
partitions of the transaction in progress.

Without TRANSACTIONAL-ID, every transactional id is described. With --output
json the result is a JSON array with a stable shape, one object per id.`,
		Example: `  strata txn describe my-app-0
  strata txn describe --output json | jq '.[] | select(.state == "Ongoing")'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			for _, id := range args {
				if id == "" {
					return usagef(cmd, "an empty transactional id")
				}
			}
			return withAdmin(cmd, co, func(ctx context.Context, adm *kadm.Client) error {
				descs, err := describeTxns(ctx, adm, args)
				if descs == nil {
					return err
				}
				if perr := printTxnDescriptions(cmd.OutOrStdout(), format, descs); perr != nil {
					return perr
				}
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

// errTxnNotFound means no coordinator knows the transactional id.
var errTxnNotFound = errors.New("transactional id does not exist")

// describeTxns describes the named transactional ids (all of them if ids
// is empty), in the order given or sorted when listing all. Ids that could
// not be described are left out and reported in the error, which comes
// with the others (never nil when some were described).
func describeTxns(ctx context.Context, adm *kadm.Client, ids []string) ([]txnDescription, error) {
	apis := []kmsg.Key{kmsg.FindCoordinator, kmsg.DescribeTransactions}
	if len(ids) == 0 {
		apis = append(apis, kmsg.ListTransactions)
	}
	if _, err := requireAPIs(ctx, adm, "describing transactions", apis...); err != nil {
		return nil, err
	}
	described, err := adm.DescribeTransactions(ctx, ids...)
	var se *kadm.ShardErrors
	var errs []error
	switch {
	case errors.As(err, &se):
		errs = append(errs, fmt.Errorf("describe transactions: not every coordinator answered: %w", err))
	case err != nil:
		return nil, fmt.Errorf("describe transactions: %w", err)
	}
	if len(ids) == 0 {
		for _, d := range described.Sorted() {
			ids = append(ids, d.TxnID)
		}
	}
	out := make([]txnDescription, 0, len(ids))
	for _, id := range ids {
		d, ok := described[id]
		switch {
		case !ok:
			continue // its coordinator did not answer: in the shard errors
		case errors.Is(d.Err, kerr.TransactionalIDNotFound):
			errs = append(errs, fmt.Errorf("%w: %q (list them with 'strata txn list')", errTxnNotFound, id))
			continue
		case d.Err != nil:
			errs = append(errs, fmt.Errorf("describe transactional id %q: %w", id, d.Err))
			continue
		}
		out = append(out, txnDescriptionOf(d))
	}
	return out, errors.Join(errs...)
}

func txnDescriptionOf(d kadm.DescribedTransaction) txnDescription {
	td := txnDescription{
		TransactionalID: d.TxnID,
		State:           d.State,
		ProducerID:      d.ProducerID,
		ProducerEpoch:   d.ProducerEpoch,
		TimeoutMS:       d.TimeoutMillis,
		Coordinator:     d.Coordinator,
		Partitions:      []topicAssignment{},
	}
	if d.StartTimestamp >= 0 {
		td.StartTime = time.UnixMilli(d.StartTimestamp).UTC().Format(time.RFC3339Nano)
	}
	for _, topic := range d.Topics.Sorted() {
		ps := slices.Clone(topic.Partitions)
		slices.Sort(ps)
		td.Partitions = append(td.Partitions, topicAssignment{Topic: topic.Topic, Partitions: ps})
	}
	return td
}

// printTxnDescriptions prints descriptions in format.
func printTxnDescriptions(w io.Writer, format outputFormat, descs []txnDescription) error {
	if format == outputJSON {
		return writeJSON(w, descs)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TRANSACTIONAL-ID\tSTATE\tPRODUCER-ID\tEPOCH\tTIMEOUT\tSTARTED\tCOORDINATOR\tPARTITIONS")
	for _, d := range descs {
		var parts []string
		for _, a := range d.Partitions {
			ps := make([]string, len(a.Partitions))
			for i, p := range a.Partitions {
				ps[i] = fmt.Sprint(p)
			}
			parts = append(parts, a.Topic+":"+strings.Join(ps, ","))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%v\t%s\t%d\t%s\n", d.TransactionalID, dash(d.State), d.ProducerID, d.ProducerEpoch,
			time.Duration(d.TimeoutMS)*time.Millisecond, dash(d.StartTime), d.Coordinator, dash(strings.Join(parts, " ")))
	}
	return tw.Flush()
}
