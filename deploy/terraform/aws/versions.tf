terraform {
  # 1.5 for the language features used here (optional attributes,
  # preconditions, one()); OpenTofu 1.6+ works too.
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.40+ for security groups on network load balancers and the
      # aws_vpc_security_group_*_rule resources.
      version = "~> 5.40"
    }
  }
}
