# Facts about the account and the network the module is placed in.

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_vpc" "selected" {
  id = var.vpc_id
}

data "aws_subnet" "selected" {
  count = length(var.subnet_ids)
  id    = var.subnet_ids[count.index]
}

# The newest Amazon Linux 2023 for the architecture, unless ami_id is set.
data "aws_ami" "al2023" {
  count       = var.ami_id == null ? 1 : 0
  most_recent = true
  owners      = ["amazon"]

  filter {
    name   = "name"
    values = ["al2023-ami-2023.*-kernel-*-${var.architecture}"]
  }

  filter {
    name   = "architecture"
    values = [var.architecture]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

# Used to check that the instance types run the chosen architecture.
data "aws_ec2_instance_type" "agent" {
  instance_type = var.instance_type
}

data "aws_ec2_instance_type" "etcd" {
  instance_type = var.etcd_instance_type
}
