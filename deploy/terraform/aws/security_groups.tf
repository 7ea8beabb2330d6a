# Who may talk to whom:
#
#   clients (client_cidr_blocks) ── 9092 ──▶ load balancer and every agent
#   agents ── 9092 ──▶ agents               (replication between agents)
#   metrics_cidr_blocks, agents ── 9644 ──▶ agents (Prometheus, health checks)
#   agents, etcd ── 2379 ──▶ etcd           (etcd clients)
#   etcd ── 2380 ──▶ etcd                   (etcd peers)
#
# Egress is open: instances download the strata and etcd binaries at boot
# and reach S3 (through a NAT gateway or, cheaper, an S3 gateway endpoint).

resource "aws_security_group" "agent" {
  name_prefix = "${var.name}-agent-"
  description = "Strata agents of cluster ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-agent" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "etcd" {
  name_prefix = "${var.name}-etcd-"
  description = "etcd members of Strata cluster ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-etcd" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "nlb" {
  name_prefix = "${var.name}-nlb-"
  description = "Bootstrap load balancer of Strata cluster ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-nlb" })

  lifecycle {
    create_before_destroy = true
  }
}

# --- Agents -------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "agent_kafka_from_clients" {
  for_each          = toset(local.client_cidr_blocks)
  security_group_id = aws_security_group.agent.id
  description       = "Kafka clients connect to every agent directly"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = local.kafka_port
  to_port           = local.kafka_port
}

resource "aws_vpc_security_group_ingress_rule" "agent_kafka_from_nlb" {
  security_group_id            = aws_security_group.agent.id
  description                  = "Bootstrap connections and health checks from the load balancer"
  referenced_security_group_id = aws_security_group.nlb.id
  ip_protocol                  = "tcp"
  from_port                    = local.kafka_port
  to_port                      = local.kafka_port
}

resource "aws_vpc_security_group_ingress_rule" "agent_kafka_from_agents" {
  security_group_id            = aws_security_group.agent.id
  description                  = "Replication between agents"
  referenced_security_group_id = aws_security_group.agent.id
  ip_protocol                  = "tcp"
  from_port                    = local.kafka_port
  to_port                      = local.kafka_port
}

resource "aws_vpc_security_group_ingress_rule" "agent_metrics_from_agents" {
  security_group_id            = aws_security_group.agent.id
  description                  = "Metrics and health endpoints, from other agents"
  referenced_security_group_id = aws_security_group.agent.id
  ip_protocol                  = "tcp"
  from_port                    = local.metrics_port
  to_port                      = local.metrics_port
}

resource "aws_vpc_security_group_ingress_rule" "agent_metrics_from_cidrs" {
  for_each          = toset(local.metrics_cidr_blocks)
  security_group_id = aws_security_group.agent.id
  description       = "Metrics and health endpoints, for Prometheus"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = local.metrics_port
  to_port           = local.metrics_port
}

resource "aws_vpc_security_group_egress_rule" "agent_all" {
  security_group_id = aws_security_group.agent.id
  description       = "S3, etcd, other agents, binary download"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}

# --- etcd ---------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "etcd_client_from_agents" {
  security_group_id            = aws_security_group.etcd.id
  description                  = "etcd clients: the agents"
  referenced_security_group_id = aws_security_group.agent.id
  ip_protocol                  = "tcp"
  from_port                    = local.etcd_client_port
  to_port                      = local.etcd_client_port
}

resource "aws_vpc_security_group_ingress_rule" "etcd_client_from_etcd" {
  security_group_id            = aws_security_group.etcd.id
  description                  = "etcd clients: etcdctl on the members"
  referenced_security_group_id = aws_security_group.etcd.id
  ip_protocol                  = "tcp"
  from_port                    = local.etcd_client_port
  to_port                      = local.etcd_client_port
}

resource "aws_vpc_security_group_ingress_rule" "etcd_peer" {
  security_group_id            = aws_security_group.etcd.id
  description                  = "etcd peer traffic between members"
  referenced_security_group_id = aws_security_group.etcd.id
  ip_protocol                  = "tcp"
  from_port                    = local.etcd_peer_port
  to_port                      = local.etcd_peer_port
}

resource "aws_vpc_security_group_egress_rule" "etcd_all" {
  security_group_id = aws_security_group.etcd.id
  description       = "Peers, etcd download, Session Manager"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}

# --- Load balancer ------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "nlb_kafka_from_clients" {
  for_each          = toset(local.client_cidr_blocks)
  security_group_id = aws_security_group.nlb.id
  description       = "Kafka bootstrap"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = local.kafka_port
  to_port           = local.kafka_port
}

resource "aws_vpc_security_group_egress_rule" "nlb_to_agents" {
  security_group_id            = aws_security_group.nlb.id
  description                  = "Forward to agents and health-check them"
  referenced_security_group_id = aws_security_group.agent.id
  ip_protocol                  = "tcp"
  from_port                    = local.kafka_port
  to_port                      = local.kafka_port
}
