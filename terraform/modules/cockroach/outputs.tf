output "databases" {
  description = "The databases created, each owned by the user of the same name."
  value       = var.databases
}

output "passwords" {
  description = "Password of each database's user, keyed by database (= user) name; the region module puts them into the DSNs."
  value       = local.password
  sensitive   = true
}

output "primary_region" {
  description = "The databases' primary region."
  value       = var.primary_region
}

output "regions" {
  description = "Every region the databases were added to, the primary first."
  value       = concat([var.primary_region], local.others)
}

output "survival_goal" {
  description = "The survival goal set on every database: zone or region."
  value       = local.goal
}

output "statements" {
  description = "The SQL this module runs, in order, passwords left out: what to run by hand where the provider cannot reach the cluster."
  value       = concat(local.database_statements, [for d in var.databases : "ALTER USER ${d} WITH PASSWORD '…'"], local.region_statements)
}
