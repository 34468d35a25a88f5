# The multi-region setup of idstack's databases on a self-hosted CockroachDB
# cluster, as infra/stack/database.go does it locally: one database per Ory
# service owned by a user of the same name, its primary region, the other
# regions added, and the survival goal.
#
# The statements run through paultyng/sql's sql_migrate. It keeps the
# statements it ran in the state and runs only those that are new; each
# migration's id is its statement, so a changed primary region or survival
# goal is a new statement and runs. Every statement is idempotent (IF NOT
# EXISTS, or a SET that may repeat), and each runs on its own: CockroachDB
# refuses some multi-region changes inside a multi-statement transaction.
# Downs are no-ops: destroying this module never drops a database, a user or
# a region (see README.md).

resource "random_password" "user" {
  for_each = toset(var.databases)
  length   = var.password_length
  # Letters and digits only: the password goes into SQL and into DSNs.
  special = false
}

locals {
  goal     = coalesce(var.survival_goal, length(var.regions) >= 3 ? "region" : "zone")
  others   = [for r in var.regions : r if r != var.primary_region]
  noop     = "SELECT 1"
  password = { for d in var.databases : d => random_password.user[d].result }

  database_statements = flatten([for d in var.databases : [
    "CREATE DATABASE IF NOT EXISTS ${d}",
    "CREATE USER IF NOT EXISTS ${d}",
    "ALTER DATABASE ${d} OWNER TO ${d}",
  ]])

  # Order matters: a database gets its primary region first (ADD REGION
  # needs one), then the other regions, then the survival goal (REGION
  # needs three regions in the database).
  region_statements = flatten([for d in var.databases : concat(
    ["ALTER DATABASE ${d} SET PRIMARY REGION \"${var.primary_region}\""],
    [for r in local.others : "ALTER DATABASE ${d} ADD REGION IF NOT EXISTS \"${r}\""],
    ["ALTER DATABASE ${d} SURVIVE ${upper(local.goal)} FAILURE"],
  )])
}

resource "sql_migrate" "databases" {
  dynamic "migration" {
    for_each = local.database_statements
    content {
      id   = migration.value
      up   = migration.value
      down = local.noop
    }
  }

  # The password is set by its own statement, whose id carries a digest of
  # the password: a new password is a new statement. The statement itself is
  # sensitive, so plans do not show it.
  dynamic "migration" {
    for_each = var.databases
    content {
      id   = "ALTER USER ${migration.value} WITH PASSWORD (sha256 ${substr(sha256(local.password[migration.value]), 0, 16)})"
      up   = "ALTER USER ${migration.value} WITH PASSWORD '${local.password[migration.value]}'"
      down = local.noop
    }
  }
}

resource "sql_migrate" "regions" {
  dynamic "migration" {
    for_each = local.region_statements
    content {
      id   = migration.value
      up   = migration.value
      down = local.noop
    }
  }

  depends_on = [sql_migrate.databases]
}
