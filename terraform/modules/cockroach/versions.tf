terraform {
  # 1.9 is the first release whose variable validations may refer to other
  # variables; every module here relies on that.
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    # Runs SQL through Go's database/sql with the PostgreSQL wire protocol,
    # which CockroachDB speaks (its docs show a CockroachDB URL). See
    # README.md for why not cyrilgdn/postgresql, and for this provider's
    # limits. Pinned exactly: it is no longer developed.
    sql = {
      source  = "paultyng/sql"
      version = "= 0.5.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }
}
