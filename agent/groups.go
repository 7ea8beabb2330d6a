package agent

import (
	"fmt"
	"net"
	"time"

	"github.com/strata-io/strata/agent/group"
	"github.com/strata-io/strata/protocol"
)

// startGroups starts the consumer-group coordinator (package agent/group).
// Start calls it once the agent is registered: the coordinator's shard
// claims live under the agent's registration.
func (a *Agent) startGroups() error {
	cfg := a.cfg.Groups
	cfg.Logger = a.logger
	c, err := group.New(cfg, a.store, a.registration(), a.cfg.NodeID, a.cache)
	if err != nil {
		return fmt.Errorf("group coordinator: %w", err)
	}
	a.groups = c
	c.Start()
	return nil
}

// stopGroups stops the coordinator; close calls it once no request is
// being served any more, and before the registration (and with it the
// coordinator's claims) goes.
func (a *Agent) stopGroups() {
	if a.groups != nil {
		a.groups.Close()
	}
}

// errNoCoordinator is the error group requests get before the coordinator
// runs.
var errNoCoordinator = fmt.Errorf("%w: the agent is starting", group.ErrCoordinatorNotAvailable)

// agentAddr returns the advertised address of agent id.
func (a *Agent) agentAddr(id int32) (string, int32, bool) {
	if id == a.cfg.NodeID {
		return a.advHost, a.advPort, true
	}
	ag, ok := a.cache.Agent(id)
	return ag.Host, ag.Port, ok
}

// clientID is the request's client id ("" when null).
func clientID(pr *protocol.Request) string {
	if pr.Header.ClientID == nil {
		return ""
	}
	return *pr.Header.ClientID
}

// clientHost is the client's address as Kafka reports it: "/" and the IP.
func clientHost(pr *protocol.Request) string {
	if pr.Conn == nil || pr.Conn.RemoteAddr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(pr.Conn.RemoteAddr.String())
	if err != nil {
		host = pr.Conn.RemoteAddr.String()
	}
	return "/" + host
}

func millis(ms int32) time.Duration { return time.Duration(ms) * time.Millisecond }
