# The etcd cluster that holds Strata's metadata.
#
# etcd membership is static: every member is named in --initial-cluster by
# its peer URL, and a member is its data directory. An auto-scaling group
# would replace a failed member with a new address and an empty disk,
# which etcd sees as a stranger; it would need member remove/add
# automation to recover. So each member is a fixed slot instead:
#
#   - a network interface owned by Terraform, whose private IP is the
#     member's address for life (written into --initial-cluster);
#   - a data volume owned by Terraform, which outlives the instance;
#   - an instance that boots with that interface as its primary one and
#     mounts that volume. EC2 simplified automatic recovery restarts it on
#     healthy hardware after a host failure, keeping both.
#
# If an instance is lost anyway, `terraform apply` recreates it on the same
# interface and volume and it rejoins as the same member. Instances ignore
# later AMI and user-data changes so that an apply never replaces all
# members at once; replace them one at a time with
# `terraform apply -replace='module.NAME.aws_instance.etcd[0]'`.

resource "aws_network_interface" "etcd" {
  count           = var.etcd_count
  subnet_id       = var.subnet_ids[count.index % length(var.subnet_ids)]
  security_groups = [aws_security_group.etcd.id]
  description     = "${var.name} etcd-${count.index + 1}: stable peer and client address"
  tags            = merge(local.tags, { Name = "${var.name}-etcd-${count.index + 1}" })
}

resource "aws_ebs_volume" "etcd" {
  count             = var.etcd_count
  availability_zone = local.subnet_azs[count.index % length(var.subnet_ids)]
  size              = var.etcd_volume_size_gb
  type              = "gp3"
  encrypted         = true
  tags              = merge(local.tags, { Name = "${var.name}-etcd-${count.index + 1}-data" })
}

resource "aws_instance" "etcd" {
  count                = var.etcd_count
  ami                  = local.ami_id
  instance_type        = var.etcd_instance_type
  iam_instance_profile = aws_iam_instance_profile.etcd.name

  network_interface {
    network_interface_id = aws_network_interface.etcd[count.index].id
    device_index         = 0
  }

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  maintenance_options {
    auto_recovery = "default"
  }

  root_block_device {
    volume_type = "gp3"
    encrypted   = true
  }

  user_data = templatefile("${path.module}/templates/etcd-user-data.sh.tftpl", {
    member_name       = "etcd-${count.index + 1}"
    private_ip        = aws_network_interface.etcd[count.index].private_ip
    initial_cluster   = local.etcd_initial_cluster
    cluster_token     = "strata-${var.name}"
    client_port       = local.etcd_client_port
    peer_port         = local.etcd_peer_port
    download_url      = local.etcd_download_url
    data_volume_id    = aws_ebs_volume.etcd[count.index].id
    data_volume_label = "etcd-data"
  })

  tags = merge(local.tags, { Name = "${var.name}-etcd-${count.index + 1}" })

  lifecycle {
    ignore_changes = [ami, user_data]

    precondition {
      condition     = contains(data.aws_ec2_instance_type.etcd.supported_architectures, var.architecture)
      error_message = "etcd_instance_type does not run the ${var.architecture} architecture."
    }
  }
}

resource "aws_volume_attachment" "etcd" {
  count       = var.etcd_count
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.etcd[count.index].id
  instance_id = aws_instance.etcd[count.index].id

  # Let etcd stop cleanly before its disk goes away.
  stop_instance_before_detaching = true
}
