# Client reachability.
#
# A Kafka client uses its bootstrap address only to fetch metadata; then it
# connects to each partition leader at the address that broker advertises.
# A load balancer in front of all brokers therefore cannot carry the data
# traffic (it would send a client to an arbitrary broker). This module
# uses the load balancer for bootstrap only: an internal NLB on TCP 9092
# spreads first connections over the healthy agents, and every agent
# advertises its own private IP (from instance metadata) on 9092, which
# clients in the VPC — or in networks routed to it: peering, Transit
# Gateway, VPN — reach directly. When an agent is replaced it advertises
# its new address under the same node id, and clients pick it up with
# their next metadata refresh; the bootstrap name never changes.
#
# Clients outside the VPC's routing domain are not served: they would need
# a public address per agent, or one NLB listener per agent advertised as
# NLB_DNS:PORT_i, neither of which this module sets up.

resource "aws_lb" "bootstrap" {
  name                             = "${var.name}-bootstrap"
  internal                         = true
  load_balancer_type               = "network"
  subnets                          = var.subnet_ids
  security_groups                  = [aws_security_group.nlb.id]
  enable_cross_zone_load_balancing = true
  tags                             = local.tags

  lifecycle {
    precondition {
      condition     = length(distinct(local.subnet_azs)) == length(var.subnet_ids)
      error_message = "subnet_ids must be in distinct availability zones."
    }
  }
}

resource "aws_lb_target_group" "bootstrap" {
  name                 = "${var.name}-kafka"
  port                 = local.kafka_port
  protocol             = "TCP"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  deregistration_delay = 30
  tags                 = local.tags

  # A TCP check of the Kafka port: an agent accepts connections once it is
  # registered and serving.
  health_check {
    protocol            = "TCP"
    port                = "traffic-port"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "bootstrap" {
  load_balancer_arn = aws_lb.bootstrap.arn
  port              = local.kafka_port
  protocol          = "TCP"
  tags              = local.tags

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.bootstrap.arn
  }
}
