package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// reassignAction is what `strata topic reassign` does with its plan.
type reassignAction string

const (
	reassignDryRun  reassignAction = "dry-run"
	reassignExecute reassignAction = "execute"
	reassignVerify  reassignAction = "verify"
	reassignCancel  reassignAction = "cancel"
)

// Per-partition statuses of reassignmentStatus.
const (
	reassignStarted       = "started"        // execute: the cluster accepted the new replicas
	reassignInProgress    = "in_progress"    // verify: replicas are still being added or removed
	reassignComplete      = "complete"       // verify: the partition has its planned replicas
	reassignNotReassigned = "not_reassigned" // verify: not moving, and not on the planned replicas
	reassignCancelled     = "cancelled"      // cancel: the ongoing reassignment was stopped
	reassignNotInProgress = "not_in_progress"
	reassignFailed        = "failed"
)

// reassignmentReport is the JSON result of reassign --execute, --verify and
// --cancel. Its shape is stable.
type reassignmentReport struct {
	Action     reassignAction       `json:"action"`
	Partitions []reassignmentStatus `json:"partitions"`
	// Rollback (--execute only) is the plan that puts the partitions back
	// on the replicas they had before.
	Rollback *reassignmentPlan `json:"rollback,omitempty"`
}

// reassignmentStatus is one partition of a reassignmentReport.
type reassignmentStatus struct {
	Topic            string  `json:"topic"`
	Partition        int32   `json:"partition"`
	CurrentReplicas  []int32 `json:"current_replicas"`
	TargetReplicas   []int32 `json:"target_replicas"`
	AddingReplicas   []int32 `json:"adding_replicas"`
	RemovingReplicas []int32 `json:"removing_replicas"`
	Status           string  `json:"status"`
	Error            string  `json:"error,omitempty"`

	err error // the Kafka error behind Error, for hints
}

// reassignOptions are the flags of reassign.
type reassignOptions struct {
	plan         string
	generate     bool
	topics       []string
	agents       []int32
	execute      bool
	verify       bool
	cancel       bool
	wait         bool
	pollInterval time.Duration
	output       string
}

// reassignConfig is a validated reassign invocation.
type reassignConfig struct {
	planFile     string // "" with --generate
	topics       []string
	agents       []int32
	action       reassignAction
	wait         bool
	pollInterval time.Duration
	format       outputFormat
}

func (o *reassignOptions) config() (reassignConfig, error) {
	cfg := reassignConfig{planFile: o.plan, topics: o.topics, agents: o.agents, wait: o.wait,
		pollInterval: o.pollInterval, action: reassignDryRun}
	var err error
	if cfg.format, err = parseOutput(o.output); err != nil {
		return cfg, err
	}
	switch {
	case o.plan == "" && !o.generate:
		return cfg, errors.New("give --plan FILE, or --generate --topics T,... --agents ID,...")
	case o.plan != "" && o.generate:
		return cfg, errors.New("--plan and --generate are exclusive: give one")
	case o.generate && (len(o.topics) == 0 || len(o.agents) == 0):
		return cfg, errors.New("--generate needs --topics T,... and --agents ID,...")
	case !o.generate && (len(o.topics) > 0 || len(o.agents) > 0):
		return cfg, errors.New("--topics and --agents only go with --generate")
	}
	if err := parseAgentIDs("--agents", o.agents); err != nil {
		return cfg, err
	}
	var actions []string
	for _, a := range []struct {
		set    bool
		action reassignAction
	}{{o.execute, reassignExecute}, {o.verify, reassignVerify}, {o.cancel, reassignCancel}} {
		if a.set {
			actions = append(actions, "--"+string(a.action))
			cfg.action = a.action
		}
	}
	switch {
	case len(actions) > 1:
		return cfg, fmt.Errorf("%s are exclusive: give one", joinAnd(actions))
	case o.wait && cfg.action != reassignExecute && cfg.action != reassignVerify:
		return cfg, errors.New("--wait goes with --execute or --verify")
	case o.pollInterval <= 0:
		return cfg, fmt.Errorf("--poll-interval must be positive, got %v", o.pollInterval)
	}
	return cfg, nil
}

// joinAnd renders ["a","b","c"] as "a, b and c".
func joinAnd(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

const reassignLong = `Move partition replicas between agents (AlterPartitionReassignments), in
the spirit of Kafka's kafka-reassign-partitions.sh and with its plan format:

  {"version":1,"partitions":[{"topic":"orders","partition":0,"replicas":[2,3,1]}]}

The plan comes from a file (--plan FILE, "-" for stdin), or is generated
(--generate --topics T,... --agents ID,...): every partition of the topics
keeps its number of replicas, spread round-robin over the given agents
(interleaved by rack when every agent has one), so leaders and replicas are
balanced. The first replica of each partition is its preferred leader.

What to do with the plan:
  (nothing)   dry run: show current and proposed replicas, change nothing.
              With --output json, print just the proposed plan, ready to be
              saved as a file for --plan.
  --execute   start the reassignment. The current assignment is printed
              first: keep it to roll back (run it as a plan).
  --verify    show which partitions are still moving and whether each has
              its planned replicas; exit status 1 until all do.
  --cancel    stop ongoing reassignments of the plan's partitions; they keep
              the replicas they had before.

--wait (with --execute or --verify) polls ListPartitionReassignments every
--poll-interval, printing what is still moving to stderr, until every
partition has finished, then verifies. Interrupting the wait does not stop
the reassignment. Preferred leaders change with the replica order; once the
new replicas are in sync, 'strata cluster elect-leaders' moves leadership
to them.`

func newTopicReassignCmd(co *clientOptions) *cobra.Command {
	o := &reassignOptions{}
	cmd := &cobra.Command{
		Use:   "reassign (--plan FILE | --generate --topics T,... --agents ID,...) [--execute|--verify|--cancel] [--wait]",
		Short: "Move partition replicas between agents (plan, execute, verify, cancel)",
		Long:  reassignLong,
		Example: `  # Spread orders and payments over agents 1-4: look at the plan, then save it
  strata topic reassign --generate --topics orders,payments --agents 1,2,3,4
  strata topic reassign --generate --topics orders,payments --agents 1,2,3,4 --output json > plan.json

  # Start it, keeping the printed current assignment to roll back, and wait
  strata topic reassign --plan plan.json --execute --wait

  # Or check on it later, or stop it
  strata topic reassign --plan plan.json --verify
  strata topic reassign --plan plan.json --cancel`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config()
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			return runReassign(cmd, co, cfg)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.plan, "plan", "", `reassignment plan file in Kafka's JSON format ("-": stdin)`)
	fs.BoolVar(&o.generate, "generate", false, "generate a plan that spreads --topics over --agents")
	fs.StringSliceVar(&o.topics, "topics", nil, "topics whose partitions --generate spreads (comma-separated or repeated)")
	fs.Int32SliceVar(&o.agents, "agents", nil, "agent IDs --generate spreads replicas over (comma-separated)")
	fs.BoolVar(&o.execute, "execute", false, "start the reassignment")
	fs.BoolVar(&o.verify, "verify", false, "check the reassignment's progress; exit 1 until it is complete")
	fs.BoolVar(&o.cancel, "cancel", false, "cancel ongoing reassignments of the plan's partitions")
	fs.BoolVar(&o.wait, "wait", false, "with --execute or --verify: wait until every partition has finished moving")
	fs.DurationVar(&o.pollInterval, "poll-interval", time.Second, "how often --wait checks progress")
	fs.StringVarP(&o.output, "output", "o", string(outputTable), "output format: table or json")
	return cmd
}

// reassignRun is one run of reassign: a connected client, the plan and the
// cluster's current assignment of the plan's partitions. Every request gets
// its own --timeout; waiting is bounded only by Ctrl-C.
type reassignRun struct {
	cfg    reassignConfig
	co     *clientOptions
	cl     *kgo.Client
	adm    *kadm.Client
	out    io.Writer
	stderr io.Writer
	plan   reassignmentPlan
	state  *clusterState
}

func runReassign(cmd *cobra.Command, co *clientOptions, cfg reassignConfig) error {
	r := &reassignRun{cfg: cfg, co: co, out: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr()}
	if cfg.planFile != "" {
		data, err := readPlanFile(cfg.planFile, cmd.InOrStdin())
		if err != nil {
			return err
		}
		if r.plan, err = parsePlan(data); err != nil {
			return fmt.Errorf("%s: %w", cfg.planFile, err)
		}
	}
	var err error
	if r.cl, r.adm, err = connectAdmin(cmd, co); err != nil {
		return err
	}
	defer r.cl.Close()
	ctx := cmd.Context()
	if err := r.load(ctx); err != nil {
		return err
	}
	switch cfg.action {
	case reassignExecute:
		return r.execute(ctx)
	case reassignVerify:
		return r.verify(ctx)
	case reassignCancel:
		return r.cancel(ctx)
	}
	return r.dryRun()
}

// load reads the current assignment and, with --generate, builds the plan.
func (r *reassignRun) load(ctx context.Context) error {
	rctx, cancel := r.co.requestContext(ctx)
	defer cancel()
	topics := r.cfg.topics
	if r.cfg.planFile != "" {
		topics = r.plan.topics()
	}
	var err error
	if r.state, err = loadClusterState(rctx, r.cl, topics); err != nil {
		return err
	}
	if r.cfg.planFile != "" {
		return r.plan.checkAgainst(r.state.assignment)
	}
	if err := r.state.checkAgents(r.cfg.agents); err != nil {
		return fmt.Errorf("--agents: %w", err)
	}
	r.plan, err = generatePlan(r.state.assignment, topics, r.cfg.agents, r.state.racks)
	return err
}

// require fails unless every broker serves the APIs. Unlike requireAPIs it
// names them as Kafka does: kmsg calls AlterPartitionReassignments
// "AlterPartitionAssignments".
func (r *reassignRun) require(ctx context.Context, keys ...kmsg.Key) error {
	rctx, cancel := r.co.requestContext(ctx)
	defer cancel()
	support, err := loadAPISupport(rctx, r.adm)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if support.supports(int16(k)) {
			continue
		}
		name := kmsg.NameForKey(int16(k))
		if k == kmsg.AlterPartitionAssignments {
			name = "AlterPartitionReassignments"
		}
		return fmt.Errorf("partition reassignment: %w (it does not serve %s)", errUnsupported, name)
	}
	return nil
}

// dryRun prints the plan next to the current replicas.
func (r *reassignRun) dryRun() error {
	if r.cfg.format == outputJSON {
		return writeJSON(r.out, r.plan)
	}
	tw := newTable(r.out)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCURRENT\tPROPOSED\tCHANGE")
	moves := 0
	for _, pp := range r.plan.Partitions {
		cur := r.state.assignment[pp.Topic][pp.Partition]
		change := "-"
		if !slices.Equal(cur, pp.Replicas) {
			change, moves = "yes", moves+1
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", pp.Topic, pp.Partition, joinInt32s(cur), joinInt32s(pp.Replicas), change)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "\n%d of %s would change; nothing was changed (add --execute to start).\n",
		moves, plural(len(r.plan.Partitions), "partition"))
	fmt.Fprintf(r.out, "\nCurrent partition replica assignment (to roll back):\n%s\n",
		currentPlan(r.plan, r.state.assignment).compactJSON())
	fmt.Fprintf(r.out, "\nProposed partition reassignment configuration:\n%s\n", r.plan.compactJSON())
	return nil
}

// execute starts the reassignment and, with --wait, waits for it.
func (r *reassignRun) execute(ctx context.Context) error {
	keys := []kmsg.Key{kmsg.AlterPartitionAssignments}
	if r.cfg.wait {
		keys = append(keys, kmsg.ListPartitionReassignments)
	}
	if err := r.require(ctx, keys...); err != nil {
		return err
	}
	if err := r.state.checkAgents(r.plan.replicas()); err != nil {
		return fmt.Errorf("%w: %w", errInvalidPlan, err)
	}
	rollback := currentPlan(r.plan, r.state.assignment)
	if r.cfg.format == outputTable {
		fmt.Fprintf(r.out, "Current partition replica assignment (save it to roll back: run it as a plan with --execute):\n%s\n\n",
			rollback.compactJSON())
	}
	var req kadm.AlterPartitionAssignmentsReq
	for _, pp := range r.plan.Partitions {
		req.Assign(pp.Topic, pp.Partition, pp.Replicas)
	}
	rctx, cancel := r.co.requestContext(ctx)
	defer cancel()
	rs, err := r.adm.AlterPartitionAssignments(rctx, req)
	if err != nil {
		return fmt.Errorf("alter partition reassignments: %w", err)
	}
	statuses := r.alterResults(rs, reassignStarted, nil)
	failed := countStatus(statuses, reassignFailed)
	if failed > 0 || !r.cfg.wait {
		if err := r.print(reassignExecute, statuses, &rollback); err != nil {
			return err
		}
		if failed > 0 {
			return reassignFailure("start", statuses)
		}
		if r.cfg.format == outputTable {
			fmt.Fprintf(r.out, "\nStarted %s. Follow them with --verify (add --wait to wait).\n",
				plural(len(statuses), "reassignment"))
		}
		return nil
	}
	if r.cfg.format == outputTable {
		if err := r.print(reassignExecute, statuses, nil); err != nil {
			return err
		}
		fmt.Fprintln(r.out)
	}
	if err := r.wait(ctx); err != nil {
		return err
	}
	return r.report(ctx, reassignExecute, &rollback)
}

// verify reports the progress of the plan, after waiting with --wait.
func (r *reassignRun) verify(ctx context.Context) error {
	if err := r.require(ctx, kmsg.ListPartitionReassignments); err != nil {
		return err
	}
	if r.cfg.wait {
		if err := r.wait(ctx); err != nil {
			return err
		}
	}
	return r.report(ctx, reassignVerify, nil)
}

// report verifies the plan, prints the result as action and fails unless
// every partition is complete.
func (r *reassignRun) report(ctx context.Context, action reassignAction, rollback *reassignmentPlan) error {
	statuses, err := r.statuses(ctx)
	if err != nil {
		return err
	}
	if err := r.print(action, statuses, rollback); err != nil {
		return err
	}
	done := countStatus(statuses, reassignComplete)
	if done == len(statuses) {
		if r.cfg.format == outputTable {
			if len(statuses) == 1 {
				fmt.Fprintln(r.out, "\nThe partition has its planned replicas.")
			} else {
				fmt.Fprintf(r.out, "\nAll %d partitions have their planned replicas.\n", len(statuses))
			}
		}
		return nil
	}
	moving := countStatus(statuses, reassignInProgress)
	switch {
	case moving == 0:
		return fmt.Errorf("%w: %d of %s do not have their planned replicas and none is moving: "+
			"start the reassignment with --execute", errReassignmentIncomplete, len(statuses)-done,
			plural(len(statuses), "partition"))
	}
	err = fmt.Errorf("%w: %d of %s still moving", errReassignmentIncomplete, moving, plural(len(statuses), "partition"))
	if !r.cfg.wait {
		err = fmt.Errorf("%w (wait for them with --verify --wait)", err)
	}
	if stuck := len(statuses) - done - moving; stuck > 0 {
		err = fmt.Errorf("%w; %d more lack their planned replicas and are not moving", err, stuck)
	}
	return err
}

// statuses compares the cluster's current replicas and ongoing
// reassignments with the plan.
func (r *reassignRun) statuses(ctx context.Context) ([]reassignmentStatus, error) {
	rctx, cancel := r.co.requestContext(ctx)
	defer cancel()
	ongoing, err := r.adm.ListPartitionReassignments(rctx, r.plan.set())
	if err != nil {
		return nil, fmt.Errorf("list partition reassignments: %w", err)
	}
	st, err := loadClusterState(rctx, r.cl, r.plan.topics())
	if err != nil {
		return nil, err
	}
	out := make([]reassignmentStatus, 0, len(r.plan.Partitions))
	for _, pp := range r.plan.Partitions {
		s := r.status(pp, st.assignment[pp.Topic][pp.Partition])
		switch o, moving := ongoing[pp.Topic][pp.Partition]; {
		case moving:
			s.Status = reassignInProgress
			s.CurrentReplicas = nonNil(o.Replicas)
			s.AddingReplicas, s.RemovingReplicas = nonNil(o.AddingReplicas), nonNil(o.RemovingReplicas)
		case slices.Equal(s.CurrentReplicas, pp.Replicas):
			s.Status = reassignComplete
		default:
			s.Status = reassignNotReassigned
		}
		out = append(out, s)
	}
	return out, nil
}

// status starts the status of one planned partition.
func (r *reassignRun) status(pp plannedReplicas, current []int32) reassignmentStatus {
	return reassignmentStatus{Topic: pp.Topic, Partition: pp.Partition, CurrentReplicas: nonNil(current),
		TargetReplicas: pp.Replicas, AddingReplicas: []int32{}, RemovingReplicas: []int32{}}
}

// wait polls the ongoing reassignments of the plan's partitions until none
// is left, reporting progress on stderr.
func (r *reassignRun) wait(ctx context.Context) error {
	set := r.plan.set()
	prog := newProgress(r.stderr)
	err := poll(ctx, r.cfg.pollInterval, func(ctx context.Context) (bool, error) {
		rctx, cancel := r.co.requestContext(ctx)
		defer cancel()
		ongoing, err := r.adm.ListPartitionReassignments(rctx, set)
		if err != nil {
			return false, fmt.Errorf("list partition reassignments: %w", err)
		}
		var moving []string
		for _, o := range ongoing.Sorted() {
			if set.Lookup(o.Topic, o.Partition) {
				moving = append(moving, fmt.Sprintf("%s-%d (adding %s, removing %s)", o.Topic, o.Partition,
					joinInt32s(o.AddingReplicas), joinInt32s(o.RemovingReplicas)))
			}
		}
		if len(moving) == 0 {
			prog.report(fmt.Sprintf("no partition of the plan is moving any more (%s)", plural(len(r.plan.Partitions), "partition")))
			return true, nil
		}
		prog.report(fmt.Sprintf("waiting: %d of %s still moving: %s", len(moving),
			plural(len(r.plan.Partitions), "partition"), listSome(moving, 5)))
		return false, nil
	})
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(r.stderr, "strata: stopped waiting; the reassignments go on in the cluster: follow them with --verify")
	}
	return err
}

// cancel stops ongoing reassignments of the plan's partitions.
func (r *reassignRun) cancel(ctx context.Context) error {
	if err := r.require(ctx, kmsg.AlterPartitionAssignments); err != nil {
		return err
	}
	var req kadm.AlterPartitionAssignmentsReq
	for _, pp := range r.plan.Partitions {
		req.CancelAssign(pp.Topic, pp.Partition)
	}
	rctx, cancel := r.co.requestContext(ctx)
	defer cancel()
	rs, err := r.adm.AlterPartitionAssignments(rctx, req)
	if err != nil {
		return fmt.Errorf("cancel partition reassignments: %w", err)
	}
	statuses := r.alterResults(rs, reassignCancelled, kerr.NoReassignmentInProgress)
	if err := r.print(reassignCancel, statuses, nil); err != nil {
		return err
	}
	if countStatus(statuses, reassignFailed) > 0 {
		return reassignFailure("cancel", statuses)
	}
	return nil
}

// alterResults turns an AlterPartitionReassignments response into statuses:
// ok for success, reassignNotInProgress for the error benign (if any), and
// reassignFailed otherwise.
func (r *reassignRun) alterResults(rs kadm.AlterPartitionAssignmentsResponses, ok string, benign error) []reassignmentStatus {
	out := make([]reassignmentStatus, 0, len(r.plan.Partitions))
	for _, pp := range r.plan.Partitions {
		s := r.status(pp, r.state.assignment[pp.Topic][pp.Partition])
		res, found := rs[pp.Topic][pp.Partition]
		switch {
		case !found:
			s.Status, s.Error = reassignFailed, "the broker's response does not mention the partition"
		case res.Err == nil:
			s.Status = ok
		case benign != nil && errors.Is(res.Err, benign):
			s.Status = reassignNotInProgress
		default:
			s.Status, s.err = reassignFailed, res.Err
			s.Error = withBrokerMessage(res.Err, res.ErrMessage).Error()
		}
		out = append(out, s)
	}
	return out
}

// reassignFailure summarises the partitions whose request failed.
func reassignFailure(what string, statuses []reassignmentStatus) error {
	i := slices.IndexFunc(statuses, func(s reassignmentStatus) bool { return s.Status == reassignFailed })
	f := statuses[i]
	err := fmt.Errorf("%s reassignment: %d of %s failed, first: %s-%d: %s", what,
		countStatus(statuses, reassignFailed), plural(len(statuses), "partition"), f.Topic, f.Partition, f.Error)
	if errors.Is(f.err, kerr.InvalidReplicaAssignment) {
		err = fmt.Errorf("%w (check the plan's agent IDs against 'strata cluster describe')", err)
	}
	return err
}

func countStatus(statuses []reassignmentStatus, status string) int {
	n := 0
	for _, s := range statuses {
		if s.Status == status {
			n++
		}
	}
	return n
}

// print prints statuses in the configured format.
func (r *reassignRun) print(action reassignAction, statuses []reassignmentStatus, rollback *reassignmentPlan) error {
	if r.cfg.format == outputJSON {
		return writeJSON(r.out, reassignmentReport{Action: action, Partitions: statuses, Rollback: rollback})
	}
	tw := newTable(r.out)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCURRENT\tTARGET\tSTATUS")
	for _, s := range statuses {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", s.Topic, s.Partition, joinInt32s(s.CurrentReplicas),
			joinInt32s(s.TargetReplicas), statusText(s))
	}
	return tw.Flush()
}

// statusText renders a status for the table view.
func statusText(s reassignmentStatus) string {
	switch s.Status {
	case reassignStarted:
		return "Reassignment started"
	case reassignInProgress:
		return fmt.Sprintf("In progress (adding %s, removing %s)", joinInt32s(s.AddingReplicas), joinInt32s(s.RemovingReplicas))
	case reassignComplete:
		return "Complete"
	case reassignNotReassigned:
		return "Not reassigned: not moving, and its replicas differ from the plan"
	case reassignCancelled:
		return "Cancelled"
	case reassignNotInProgress:
		return "No reassignment in progress"
	}
	return "Error: " + s.Error
}
