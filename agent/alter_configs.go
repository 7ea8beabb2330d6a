package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metadata"
)

// configEdit turns a topic's current overrides into the new ones.
type configEdit func(cur map[string]string) (map[string]string, error)

// alterTopicConfigs applies edit to a topic's overrides with a
// compare-and-swap on the topic, retrying if another change raced it, and
// returns once this agent runs with the new configs.
func (a *Agent) alterTopicConfigs(ctx context.Context, name string, edit configEdit, validateOnly bool) error {
	for attempt := 0; ; attempt++ {
		t, err := a.lookupTopic(ctx, name, false)
		if err != nil {
			return err
		}
		next, err := edit(maps.Clone(t.Configs))
		if err != nil {
			return err
		}
		if err := validateTopicConfigs(next); err != nil {
			return err
		}
		if validateOnly {
			return nil
		}
		t.Configs = next
		rev, err := a.store.UpdateTopic(ctx, t, nil)
		if errors.Is(err, metadata.ErrConflict) && attempt < 5 {
			if rev, rerr := a.store.Revision(ctx); rerr == nil {
				_ = a.cache.WaitForRevision(ctx, rev)
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := a.cache.WaitForRevision(ctx, rev); err != nil {
			return err
		}
		a.parts.reconcile()
		a.logger.Info("altered topic configs", "topic", name, "configs", next)
		return nil
	}
}

// checkConfigResource rejects resources other than topics: agent settings
// are static (flags) for now.
func checkConfigResource(typ kmsg.ConfigResourceType) error {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		return nil
	case kmsg.ConfigResourceTypeBroker, kmsg.ConfigResourceTypeBrokerLogger:
		return fmt.Errorf("%w: agent settings are static; change the agent's flags and restart it", errInvalidRequest)
	}
	return fmt.Errorf("%w: unknown config resource type %d", errInvalidRequest, typ)
}

// incrementalEdit applies IncrementalAlterConfigs operations: SET, DELETE,
// and APPEND/SUBTRACT on list-typed configs.
func incrementalEdit(ops []kmsg.IncrementalAlterConfigsRequestResourceConfig) configEdit {
	return func(cur map[string]string) (map[string]string, error) {
		if cur == nil {
			cur = map[string]string{}
		}
		seen := map[string]bool{}
		for _, op := range ops {
			if seen[op.Name] {
				return nil, fmt.Errorf("%w: config %q appears more than once", errInvalidRequest, op.Name)
			}
			seen[op.Name] = true
			def, known := topicConfigByName[op.Name]
			if !known {
				return nil, fmt.Errorf("%w: unknown topic config %q", errInvalidConfig, op.Name)
			}
			val := ""
			if op.Value != nil {
				val = *op.Value
			}
			switch op.Op {
			case kmsg.IncrementalAlterConfigOpSet:
				if op.Value == nil {
					return nil, fmt.Errorf("%w: SET %s needs a value", errInvalidConfig, op.Name)
				}
				cur[op.Name] = val
			case kmsg.IncrementalAlterConfigOpDelete:
				delete(cur, op.Name)
			case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
				if def.typ != kmsg.ConfigTypeList {
					return nil, fmt.Errorf("%w: %s is not a list; APPEND/SUBTRACT work on lists only", errInvalidConfig, op.Name)
				}
				base, ok := cur[op.Name]
				if !ok {
					base = def.def(&Config{})
				}
				cur[op.Name] = editList(base, val, op.Op == kmsg.IncrementalAlterConfigOpAppend)
			default:
				return nil, fmt.Errorf("%w: unknown config operation %d", errInvalidRequest, op.Op)
			}
		}
		return cur, nil
	}
}

// editList appends or removes the comma-separated items of val in list.
func editList(list, val string, add bool) string {
	items := splitList(list)
	for _, v := range splitList(val) {
		has := slices.Contains(items, v)
		switch {
		case add && !has:
			items = append(items, v)
		case !add && has:
			items = slices.DeleteFunc(items, func(s string) bool { return s == v })
		}
	}
	return strings.Join(items, ",")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// replaceEdit implements AlterConfigs: the request's configs become the
// topic's entire set of overrides.
func replaceEdit(configs []kmsg.AlterConfigsRequestResourceConfig) configEdit {
	return func(map[string]string) (map[string]string, error) {
		next := make(map[string]string, len(configs))
		for _, c := range configs {
			if _, dup := next[c.Name]; dup {
				return nil, fmt.Errorf("%w: config %q appears more than once", errInvalidRequest, c.Name)
			}
			if c.Value == nil {
				continue
			}
			next[c.Name] = *c.Value
		}
		return next, nil
	}
}
