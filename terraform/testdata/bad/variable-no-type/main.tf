variable "name" {
  description = "An input without a type."
}
