# The smallest useful root module: a three-agent Strata cluster in an
# existing VPC, with everything else at the module's defaults.
#
#   terraform init
#   terraform apply -var vpc_id=vpc-... -var 'subnet_ids=["subnet-a","subnet-b","subnet-c"]' \
#     -var strata_binary_url=https://.../strata-linux-amd64 -var strata_binary_sha256=...

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "vpc_id" {
  description = "Existing VPC for the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the VPC, one per availability zone."
  type        = list(string)
}

variable "strata_binary_url" {
  description = "HTTPS URL of a static linux/amd64 strata binary."
  type        = string
}

variable "strata_binary_sha256" {
  description = "SHA-256 of that binary."
  type        = string
  default     = ""
}

module "strata" {
  source = "../.."

  name                 = "strata-demo"
  vpc_id               = var.vpc_id
  subnet_ids           = var.subnet_ids
  strata_binary_url    = var.strata_binary_url
  strata_binary_sha256 = var.strata_binary_sha256

  tags = {
    Environment = "demo"
  }
}

output "bootstrap_servers" {
  description = "Give this to Kafka clients in the VPC."
  value       = module.strata.bootstrap_servers
}

output "bucket_name" {
  description = "Bucket holding the tiered data."
  value       = module.strata.bucket_name
}

output "agent_role_arn" {
  description = "IAM role of the agents."
  value       = module.strata.agent_role_arn
}
