variable "primary_region" {
  type        = string
  description = "The databases' primary region: a CockroachDB region name, i.e. the region= locality of some nodes (SHOW REGIONS FROM CLUSTER)."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]*$", var.primary_region))
    error_message = "primary_region must be a CockroachDB region name: letters, digits, '.', '_' or '-'."
  }
}

variable "regions" {
  type        = list(string)
  description = "Every CockroachDB region the databases live in, the primary included. Adding one adds it to both databases; removing one does NOT drop it (see README.md)."

  validation {
    condition     = length(var.regions) > 0 && length(distinct(var.regions)) == length(var.regions)
    error_message = "regions must be a non-empty list without duplicates."
  }
  validation {
    condition     = alltrue([for r in var.regions : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]*$", r))])
    error_message = "every region must be a CockroachDB region name: letters, digits, '.', '_' or '-'."
  }
  validation {
    condition     = contains(var.regions, var.primary_region)
    error_message = "regions must include primary_region."
  }
}

variable "survival_goal" {
  type        = string
  description = "zone or region. Null picks zone for one or two regions and region for three or more. SURVIVE REGION FAILURE needs at least three regions."
  default     = null

  validation {
    condition     = var.survival_goal == null || contains(["zone", "region"], coalesce(var.survival_goal, "zone"))
    error_message = "survival_goal must be zone, region or null."
  }
  validation {
    condition     = var.survival_goal != "region" || length(var.regions) >= 3
    error_message = "survival_goal region needs at least three regions."
  }
}

variable "databases" {
  type        = list(string)
  description = "The databases, each owned by a user of the same name. idstack needs kratos and hydra."
  default     = ["kratos", "hydra"]

  validation {
    condition     = length(var.databases) > 0 && alltrue([for d in var.databases : can(regex("^[a-z_][a-z0-9_]{0,62}$", d))])
    error_message = "every database must be a lowercase SQL identifier (letters, digits, '_'; not starting with a digit)."
  }
  validation {
    condition     = length(distinct(var.databases)) == length(var.databases)
    error_message = "databases must not repeat."
  }
}

variable "password_length" {
  type        = number
  description = "Length of each generated user password."
  default     = 32

  validation {
    condition     = var.password_length >= 16 && var.password_length <= 128
    error_message = "password_length must be between 16 and 128."
  }
}
