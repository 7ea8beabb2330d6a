# The agents. Every agent is an auto-scaling group of exactly one instance,
# pinned to one subnet and tagged with its node id (StrataNodeId = 1..N).
# One launch template serves them all: at boot an instance reads its node
# id from its tags (instance metadata tags are on), its address and zone
# from instance metadata, and starts `strata agent` under systemd.
#
# Why one group per agent rather than one group of N: Kafka brokers have
# identities. Partition replicas are assigned to broker ids, so a replaced
# instance must come back as the same broker id to take over its
# partitions (catching up from the other replicas and the object tier); a
# group of N would hand out anonymous instances. The data volume is part
# of the launch template and is deleted with the instance: an agent keeps
# only the hot tail locally, everything older is in S3.
#
# Health checks are EC2's: an instance is replaced when it fails, not when
# the agent restarts, which systemd handles. Changes to the launch template
# apply to instances launched afterwards; roll the agents one at a time
# with `aws autoscaling start-instance-refresh --auto-scaling-group-name
# NAME` (names in the agent_autoscaling_group_names output), waiting for
# each agent to be back in the cluster before the next.

resource "aws_launch_template" "agent" {
  name_prefix            = "${var.name}-agent-"
  description            = "Strata agent of cluster ${var.name}"
  image_id               = local.ami_id
  instance_type          = var.instance_type
  update_default_version = true
  vpc_security_group_ids = [aws_security_group.agent.id]

  iam_instance_profile {
    arn = aws_iam_instance_profile.agent.arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "enabled"
  }

  block_device_mappings {
    device_name = "/dev/sdf"

    ebs {
      volume_type           = "gp3"
      volume_size           = var.data_volume_size_gb
      iops                  = var.data_volume_iops
      throughput            = var.data_volume_throughput
      encrypted             = true
      delete_on_termination = true
    }
  }

  user_data = base64encode(templatefile("${path.module}/templates/agent-user-data.sh.tftpl", {
    binary_url     = var.strata_binary_url
    binary_sha256  = var.strata_binary_sha256
    kafka_port     = local.kafka_port
    metrics_port   = local.metrics_port
    etcd_endpoints = join(",", local.etcd_endpoints)
    s3_endpoint    = local.s3_endpoint
    s3_bucket      = aws_s3_bucket.tiered.id
    s3_region      = data.aws_region.current.name
    extra_env      = var.agent_environment
  }))

  tag_specifications {
    resource_type = "volume"
    tags          = merge(local.tags, { Name = "${var.name}-agent-data" })
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = contains(data.aws_ec2_instance_type.agent.supported_architectures, var.architecture)
      error_message = "instance_type does not run the ${var.architecture} architecture."
    }
  }
}

resource "aws_autoscaling_group" "agent" {
  count               = var.agent_count
  name                = "${var.name}-agent-${count.index + 1}"
  min_size            = 1
  max_size            = 1
  desired_capacity    = 1
  vpc_zone_identifier = [var.subnet_ids[count.index % length(var.subnet_ids)]]
  target_group_arns   = [aws_lb_target_group.bootstrap.arn]
  health_check_type   = "EC2"

  launch_template {
    id      = aws_launch_template.agent.id
    version = aws_launch_template.agent.latest_version
  }

  tag {
    key                 = "StrataNodeId"
    value               = tostring(count.index + 1)
    propagate_at_launch = true
  }

  tag {
    key                 = "Name"
    value               = "${var.name}-agent-${count.index + 1}"
    propagate_at_launch = true
  }

  dynamic "tag" {
    for_each = local.tags
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  # Agents need the metadata store to start; the members are up (if not
  # yet a quorum — the agent retries) once their instances exist.
  depends_on = [aws_volume_attachment.etcd]
}
