# Roles of the instances. The agents' role may touch only the tiered
# bucket: list it (LIST of segments by the sweeper and retention, and the
# HeadBucket check at start-up) and get, put and delete its objects,
# including the multipart-upload calls a large segment needs. Nothing
# else: agents find their identity in instance metadata, which needs no
# permission. etcd members need no AWS permission at all.
#
# Both roles also get AmazonSSMManagedInstanceCore when enable_ssm is set:
# it is what the SSM agent on Amazon Linux needs to offer Session Manager
# shells, so the security groups open no SSH port and no key pair exists.
# CloudWatch is left out on purpose: agents expose Prometheus metrics on
# port 9644 and log to journald; add a policy to the role outputs if you
# ship either to CloudWatch.

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "agent_bucket" {
  statement {
    sid = "ListTieredBucket"
    actions = [
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
      "s3:GetBucketLocation",
    ]
    resources = [aws_s3_bucket.tiered.arn]
  }

  statement {
    sid = "ReadWriteTieredObjects"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${aws_s3_bucket.tiered.arn}/*"]
  }

  # SSE-KMS only: encrypting a new object needs a data key, reading one
  # needs Decrypt.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseBucketKmsKey"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role" "agent" {
  name_prefix        = "${var.name}-agent-"
  description        = "Strata agents of cluster ${var.name}: read and write the tiered bucket."
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "agent_bucket" {
  name   = "tiered-bucket"
  role   = aws_iam_role.agent.id
  policy = data.aws_iam_policy_document.agent_bucket.json
}

resource "aws_iam_role_policy_attachment" "agent_ssm" {
  count      = var.enable_ssm ? 1 : 0
  role       = aws_iam_role.agent.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "agent" {
  name_prefix = "${var.name}-agent-"
  role        = aws_iam_role.agent.name
  tags        = local.tags
}

resource "aws_iam_role" "etcd" {
  name_prefix        = "${var.name}-etcd-"
  description        = "etcd members of Strata cluster ${var.name}: no AWS permissions beyond Session Manager."
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "etcd_ssm" {
  count      = var.enable_ssm ? 1 : 0
  role       = aws_iam_role.etcd.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "etcd" {
  name_prefix = "${var.name}-etcd-"
  role        = aws_iam_role.etcd.name
  tags        = local.tags
}
