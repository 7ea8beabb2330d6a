# Plan-level tests of the module against a mocked AWS provider: no
# credentials, no network, no resources. Run with `terraform test` (after
# `terraform init`); tests/terraform_test.go runs them when Terraform and
# the AWS provider are installed locally.

mock_provider "aws" {
  mock_data "aws_vpc" {
    defaults = {
      cidr_block = "10.20.0.0/16"
    }
  }

  mock_data "aws_ami" {
    defaults = {
      id = "ami-0123456789abcdef0"
    }
  }

  mock_data "aws_ec2_instance_type" {
    defaults = {
      supported_architectures = ["x86_64"]
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      id  = "strata-tiered-test"
      arn = "arn:aws:s3:::strata-tiered-test"
    }
  }

  mock_resource "aws_lb" {
    defaults = {
      dns_name = "strata-bootstrap-0123.elb.us-east-1.amazonaws.com"
      arn      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/strata-bootstrap/0123"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/strata-agent-test"
    }
  }

  mock_resource "aws_iam_instance_profile" {
    defaults = {
      arn = "arn:aws:iam::123456789012:instance-profile/strata-agent-test"
    }
  }

  mock_resource "aws_launch_template" {
    defaults = {
      id             = "lt-0123456789abcdef0"
      latest_version = 1
    }
  }

  mock_resource "aws_lb_target_group" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/strata-kafka/0123"
    }
  }
}

override_data {
  target = data.aws_subnet.selected[0]
  values = {
    availability_zone = "us-east-1a"
  }
}

override_data {
  target = data.aws_subnet.selected[1]
  values = {
    availability_zone = "us-east-1b"
  }
}

override_data {
  target = data.aws_subnet.selected[2]
  values = {
    availability_zone = "us-east-1c"
  }
}

variables {
  vpc_id            = "vpc-0123456789abcdef0"
  subnet_ids        = ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]
  strata_binary_url = "https://downloads.example.com/strata-linux-amd64"
}

run "defaults" {
  command = apply

  assert {
    condition     = length(aws_autoscaling_group.agent) == 3 && length(aws_instance.etcd) == 3
    error_message = "want three agents and three etcd members by default"
  }

  assert {
    condition     = [for g in aws_autoscaling_group.agent : one(g.vpc_zone_identifier)] == ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]
    error_message = "agents must spread over the subnets, one each"
  }

  assert {
    condition     = [for g in aws_autoscaling_group.agent : [for t in g.tag : t.value if t.key == "StrataNodeId"][0]] == ["1", "2", "3"]
    error_message = "agent i must carry StrataNodeId = i"
  }

  assert {
    condition     = output.bootstrap_servers == "strata-bootstrap-0123.elb.us-east-1.amazonaws.com:9092"
    error_message = "bootstrap_servers must be the load balancer on 9092"
  }

  assert {
    condition     = output.bucket_name == "strata-tiered-test" && output.agent_role_arn == "arn:aws:iam::123456789012:role/strata-agent-test"
    error_message = "bucket and role outputs"
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.tiered.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "the bucket must be encrypted with S3-managed keys by default"
  }

  assert {
    condition     = aws_s3_bucket_public_access_block.tiered.block_public_acls && aws_s3_bucket_public_access_block.tiered.restrict_public_buckets
    error_message = "public access must be blocked"
  }

  assert {
    condition     = length(aws_s3_bucket_versioning.tiered) == 0 && length(aws_s3_bucket_lifecycle_configuration.tiered.rule) == 1
    error_message = "versioning off and only the multipart rule by default"
  }

  assert {
    condition     = strcontains(base64decode(aws_launch_template.agent.user_data), "STRATA_S3_BUCKET=strata-tiered-test")
    error_message = "agents must be pointed at the bucket"
  }

  assert {
    condition     = strcontains(aws_instance.etcd[1].user_data, "ETCD_NAME=etcd-2")
    error_message = "etcd member names"
  }

  assert {
    condition     = [for r in aws_vpc_security_group_ingress_rule.agent_kafka_from_clients : r.cidr_ipv4] == ["10.20.0.0/16"]
    error_message = "Kafka must be open to the VPC's CIDR by default"
  }

  assert {
    condition     = aws_lb.bootstrap.internal && aws_lb_listener.bootstrap.port == 9092
    error_message = "internal load balancer on 9092"
  }
}

run "kms_and_versioning" {
  command = plan

  variables {
    kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    bucket_versioning = true
    agent_count       = 5
    agent_environment = { STRATA_LOG_RETENTION = "72h" }
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.tiered.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "kms_key_arn must switch the bucket to SSE-KMS"
  }

  assert {
    condition     = length(aws_s3_bucket_versioning.tiered) == 1 && length(aws_s3_bucket_lifecycle_configuration.tiered.rule) == 2
    error_message = "versioning adds the noncurrent-version rule"
  }

  assert {
    condition     = length(aws_autoscaling_group.agent) == 5 && one(aws_autoscaling_group.agent[4].vpc_zone_identifier) == "subnet-0bbb"
    error_message = "agents wrap around the subnets"
  }

  assert {
    condition     = strcontains(base64decode(aws_launch_template.agent.user_data), "STRATA_LOG_RETENTION=72h")
    error_message = "agent_environment must reach the agents"
  }
}

run "rejects_bad_input" {
  command = plan

  variables {
    name               = "Not_Valid"
    client_cidr_blocks = ["10.0.0.0/33"]
    agent_environment  = { STRATA_NODE_ID = "9" }
  }

  expect_failures = [var.name, var.client_cidr_blocks, var.agent_environment]
}

run "rejects_wrong_architecture" {
  command = plan

  variables {
    architecture = "arm64"
  }

  expect_failures = [aws_launch_template.agent, aws_instance.etcd]
}
