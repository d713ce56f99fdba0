output "instance_id" {
  description = "Id of the producer instance (aws ssm start-session --target <id>)."
  value       = aws_instance.this.id
}

output "role_name" {
  description = "Name of the instance role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the instance role."
  value       = aws_iam_role.this.arn
}

output "security_group_id" {
  description = "Id of the host's security group (no ingress, HTTPS egress)."
  value       = aws_security_group.this.id
}

output "ami_id" {
  description = "AMI the instance was created from."
  value       = aws_instance.this.ami
}

output "service_name" {
  description = "systemd unit running kstream produce on the host (journalctl -u <name>)."
  value       = "kstream-produce.service"
}

output "produce_command" {
  description = "The command line the service runs (its ExecStart)."
  value       = local.produce_command
}
