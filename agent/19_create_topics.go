package agent

// CreateTopics, versions 2–7.
//
// Each topic is validated on its own: name rules (INVALID_TOPIC_EXCEPTION),
// partition count (INVALID_PARTITIONS), replication factor against the live
// agents (INVALID_REPLICATION_FACTOR), an explicit assignment
// (INVALID_REPLICA_ASSIGNMENT), and configs (INVALID_CONFIG for unknown
// names, bad values, or features not supported yet). A topic named twice in
// one request gets INVALID_REQUEST. validate_only checks everything and
// creates nothing. v5+ responses echo the partition count, replication factor
// and effective configs; v7 adds the topic id.

import (
	"context"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleCreateTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	seen := make(map[string]int, len(req.Topics))
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		st.NumPartitions, st.ReplicationFactor = -1, -1
		var err error
		if seen[rt.Topic] > 1 {
			err = fmt.Errorf("%w: topic %q appears more than once in the request", errInvalidRequest, rt.Topic)
		} else {
			var spec topicSpec
			if spec, err = createTopicSpec(rt, req.ValidateOnly); err == nil {
				t, cerr := a.createTopic(ctx, spec)
				err = cerr
				if err == nil {
					st.TopicID = t.ID
					st.NumPartitions = int32(t.Partitions())
					st.ReplicationFactor = int16(len(t.Replicas[0]))
					st.Configs = a.createdTopicConfigs(t.Configs)
				}
			}
		}
		if err != nil {
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = errorMessage(err)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// createTopicSpec converts one requested topic, checking the request's own
// consistency (assignment vs explicit counts, null config values).
func createTopicSpec(rt kmsg.CreateTopicsRequestTopic, validateOnly bool) (topicSpec, error) {
	spec := topicSpec{
		name:              rt.Topic,
		partitions:        rt.NumPartitions,
		replicationFactor: rt.ReplicationFactor,
		validateOnly:      validateOnly,
	}
	if len(rt.ReplicaAssignment) > 0 {
		if rt.NumPartitions != -1 || rt.ReplicationFactor != -1 {
			return spec, fmt.Errorf("%w: give either a replica assignment or partitions and replication factor, not both", errInvalidRequest)
		}
		spec.assignment = make([][]int32, len(rt.ReplicaAssignment))
		for _, ra := range rt.ReplicaAssignment {
			if ra.Partition < 0 || int(ra.Partition) >= len(spec.assignment) || spec.assignment[ra.Partition] != nil {
				return spec, fmt.Errorf("%w: assignment partitions must be 0..%d, each once", errInvalidReplicas, len(spec.assignment)-1)
			}
			spec.assignment[ra.Partition] = ra.Replicas
		}
	} else if rt.NumPartitions == 0 || rt.NumPartitions < -1 {
		return spec, fmt.Errorf("%w: %d partitions requested; must be >= 1", errInvalidPartitions, rt.NumPartitions)
	} else if rt.ReplicationFactor == 0 || rt.ReplicationFactor < -1 {
		return spec, fmt.Errorf("%w: replication factor %d; must be >= 1", errInvalidReplication, rt.ReplicationFactor)
	}
	if len(rt.Configs) > 0 {
		spec.configs = make(map[string]string, len(rt.Configs))
		for _, c := range rt.Configs {
			if c.Value == nil {
				continue // null means "use the default"
			}
			spec.configs[c.Name] = *c.Value
		}
	}
	return spec, nil
}

// createdTopicConfigs lists a new topic's effective configs for v5+.
func (a *Agent) createdTopicConfigs(overrides map[string]string) []kmsg.CreateTopicsResponseTopicConfig {
	var out []kmsg.CreateTopicsResponseTopicConfig
	for _, def := range topicConfigDefs {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name = def.name
		if v, ok := overrides[def.name]; ok {
			c.Value = kmsg.StringPtr(v)
			c.Source = int8(kmsg.ConfigSourceDynamicTopicConfig)
		} else {
			c.Value = kmsg.StringPtr(def.def(&a.cfg))
			c.Source = int8(kmsg.ConfigSourceDefaultConfig)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
