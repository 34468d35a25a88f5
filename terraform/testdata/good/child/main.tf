variable "name" {
  type        = string
  description = "A required input."
}

variable "length" {
  type        = number
  description = "An optional input."
  default     = 16
}

resource "random_password" "p" {
  length = var.length
}

output "name" {
  description = "The name."
  value       = var.name
}
