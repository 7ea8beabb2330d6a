package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-io/strata/metadata/etcd"
)

const etcdLong = `Run a standalone etcd member for Strata agents to share as their metadata
service (--etcd-endpoints on each agent), without installing etcd itself.

A single member needs no flags beyond --data-dir. For a fault-tolerant
metadata service run three (or five) members, each with its own --name and
--data-dir, the same --initial-cluster, and --listen-peer/--listen-client on
addresses the others can reach. Agents can also host members themselves
(see 'strata agent --help'); this command is for a metadata service that
lives apart from the agents.

It prints "etcd ready" with its client URLs once it serves.`

const etcdExample = `  # One member on the default ports
  strata etcd --data-dir ./data/etcd-1

  # Three members on one host
  strata etcd --name m1 --data-dir d1 --listen-client 127.0.0.1:2379 --listen-peer 127.0.0.1:2380 \
    --initial-cluster m1=http://127.0.0.1:2380,m2=http://127.0.0.1:2382,m3=http://127.0.0.1:2384`

// newEtcdCmd is `strata etcd`: flags → etcd.EmbedConfig.
func newEtcdCmd() *cobra.Command {
	var (
		dataDir, name, listenClient, listenPeer     string
		advertiseClient, advertisePeer, initCluster string
		clusterState, logLevel, logFormat           string
	)
	cmd := &cobra.Command{
		Use:     "etcd",
		Short:   "Run a standalone etcd member as Strata's metadata service",
		Long:    etcdLong,
		Example: etcdExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			logger, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return &usageError{cmd: cmd, err: err}
			}
			cfg := etcd.NewEmbedConfig(dataDir)
			cfg.Name = name
			cfg.ListenClientURL, cfg.ListenPeerURL = httpURL(listenClient), httpURL(listenPeer)
			cfg.AdvertiseClientURL, cfg.AdvertisePeerURL = httpURL(advertiseClient), httpURL(advertisePeer)
			cfg.InitialCluster, cfg.InitialClusterState = initCluster, clusterState
			cfg.Logger = logger
			e, err := etcd.StartEmbedded(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer e.Close()
			logger.Info("etcd ready", "name", name, "client_urls", strings.Join(e.ClientURLs(), ","), "peer_urls", strings.Join(e.PeerURLs(), ","))
			select {
			case <-cmd.Context().Done():
				logger.Info("shutting down")
				return e.Close()
			case <-e.Stopped():
				return fmt.Errorf("etcd member %q stopped", name)
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "./data/etcd", "directory for the member's data")
	f.StringVar(&name, "name", etcd.DefaultMemberName, "member name, unique in the etcd cluster")
	f.StringVar(&listenClient, "listen-client", "127.0.0.1:2379", "client listener host:port (port 0 picks a free port)")
	f.StringVar(&listenPeer, "listen-peer", "127.0.0.1:2380", "peer listener host:port")
	f.StringVar(&advertiseClient, "advertise-client", "", "client address to advertise (default: the listen address)")
	f.StringVar(&advertisePeer, "advertise-peer", "", "peer address other members use (default: the listen address)")
	f.StringVar(&initCluster, "initial-cluster", "", "founding members as name=http://host:port,... (default: this member alone)")
	f.StringVar(&clusterState, "initial-cluster-state", "new", "new to found a cluster, existing to join a running one")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	return cmd
}

// httpURL turns host:port into http://host:port; URLs and "" pass through.
func httpURL(addr string) string {
	if addr == "" || strings.Contains(addr, "://") {
		return addr
	}
	return "http://" + addr
}
