package agent

// DescribeConfigs, versions 1–4.
//
// Topic resources list every topic config Strata understands with its
// effective value: a topic override (source DYNAMIC_TOPIC_CONFIG) or the
// agent's default (DEFAULT_CONFIG, or STATIC_BROKER_CONFIG when the agent's
// flags changed it), with synonyms (v1+) and documentation (v3+) on request.
// Broker resources (name "" or this agent's id) list the agent's own
// settings, all read-only. Logger resources are not supported yet and get
// UNSUPPORTED_VERSION; a broker resource for another agent gets
// INVALID_REQUEST (ask that agent).

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (a *Agent) handleDescribeConfigs(_ context.Context, req *kmsg.DescribeConfigsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		rs := kmsg.NewDescribeConfigsResponseResource()
		rs.ResourceType, rs.ResourceName = rr.ResourceType, rr.ResourceName
		var configs []kmsg.DescribeConfigsResponseResourceConfig
		var err error
		switch rr.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			configs, err = a.describeTopicConfigs(rr, req)
		case kmsg.ConfigResourceTypeBroker:
			configs, err = a.describeAgentConfigs(rr, req)
		case kmsg.ConfigResourceTypeBrokerLogger:
			err = fmt.Errorf("%w: describing logger configs", errUnsupportedVersion)
		default:
			err = fmt.Errorf("%w: unknown config resource type %d", errInvalidRequest, rr.ResourceType)
		}
		if err != nil {
			rs.ErrorCode = errorCode(err)
			rs.ErrorMessage = errorMessage(err)
		}
		rs.Configs = configs
		resp.Resources = append(resp.Resources, rs)
	}
	return resp, nil
}

func (a *Agent) describeTopicConfigs(rr kmsg.DescribeConfigsRequestResource, req *kmsg.DescribeConfigsRequest) ([]kmsg.DescribeConfigsResponseResourceConfig, error) {
	t, err := a.lookupTopic(context.Background(), rr.ResourceName, false)
	if err != nil {
		return nil, err
	}
	defaults := NewConfig()
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, def := range topicConfigDefs {
		if rr.ConfigNames != nil && !slices.Contains(rr.ConfigNames, def.name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.ConfigType = def.name, def.typ
		agentValue := def.def(&a.cfg)
		agentSource := kmsg.ConfigSourceDefaultConfig
		if agentValue != def.def(&defaults) {
			agentSource = kmsg.ConfigSourceStaticBrokerConfig
		}
		override, overridden := t.Configs[def.name]
		if overridden {
			c.Value, c.Source = kmsg.StringPtr(override), kmsg.ConfigSourceDynamicTopicConfig
		} else {
			c.Value, c.Source = kmsg.StringPtr(agentValue), agentSource
		}
		c.IsDefault = !overridden && agentSource == kmsg.ConfigSourceDefaultConfig
		if req.IncludeSynonyms {
			if overridden {
				c.ConfigSynonyms = append(c.ConfigSynonyms, synonym(def.name, override, kmsg.ConfigSourceDynamicTopicConfig))
			}
			c.ConfigSynonyms = append(c.ConfigSynonyms, synonym(def.synonym, agentValue, agentSource))
		}
		if req.IncludeDocumentation {
			c.Documentation = kmsg.StringPtr(def.doc)
		}
		out = append(out, c)
	}
	return out, nil
}

func synonym(name, value string, src kmsg.ConfigSource) kmsg.DescribeConfigsResponseResourceConfigConfigSynonym {
	s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
	s.Name, s.Value, s.Source = name, kmsg.StringPtr(value), src
	return s
}

// agentConfigs lists the agent-level settings DescribeConfigs reports, by
// their Kafka broker-config names.
func (a *Agent) agentConfigs() [][2]string {
	c := &a.cfg
	out := [][2]string{
		{"broker.id", strconv.Itoa(int(c.NodeID))},
		{"listeners", "PLAINTEXT://" + c.Listen},
		{"advertised.listeners", fmt.Sprintf("PLAINTEXT://%s:%d", a.advHost, a.advPort)},
		{"broker.rack", c.Rack},
		{"log.dirs", c.DataDir},
		{"auto.create.topics.enable", strconv.FormatBool(c.AutoCreateTopics)},
		{"num.partitions", strconv.Itoa(int(c.DefaultPartitions))},
		{"default.replication.factor", strconv.Itoa(int(c.DefaultReplicationFactor))},
		{"socket.request.max.bytes", strconv.Itoa(int(c.MaxRequestBytes))},
		{"connections.max.idle.ms", durationMS(c.IdleTimeout)},
		{"log.retention.check.interval.ms", durationMS(c.RetentionCheckInterval)},
	}
	for _, def := range topicConfigDefs {
		out = append(out, [2]string{def.synonym, def.def(c)})
	}
	return out
}

func (a *Agent) describeAgentConfigs(rr kmsg.DescribeConfigsRequestResource, req *kmsg.DescribeConfigsRequest) ([]kmsg.DescribeConfigsResponseResourceConfig, error) {
	if rr.ResourceName != "" && rr.ResourceName != strconv.Itoa(int(a.cfg.NodeID)) {
		return nil, fmt.Errorf("%w: this is agent %d; send DescribeConfigs for agent %q to that agent", errInvalidRequest, a.cfg.NodeID, rr.ResourceName)
	}
	var out []kmsg.DescribeConfigsResponseResourceConfig
	seen := map[string]bool{}
	for _, kv := range a.agentConfigs() {
		if seen[kv[0]] || (rr.ConfigNames != nil && !slices.Contains(rr.ConfigNames, kv[0])) {
			continue
		}
		seen[kv[0]] = true
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value = kv[0], kmsg.StringPtr(kv[1])
		c.ReadOnly = true
		c.Source = kmsg.ConfigSourceStaticBrokerConfig
		if req.IncludeSynonyms {
			c.ConfigSynonyms = append(c.ConfigSynonyms, synonym(kv[0], kv[1], kmsg.ConfigSourceStaticBrokerConfig))
		}
		out = append(out, c)
	}
	return out, nil
}
