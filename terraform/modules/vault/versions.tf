terraform {
  # 1.9 is the first release whose variable validations may refer to other
  # variables; every module here relies on that.
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    vault = {
      source  = "hashicorp/vault"
      version = "~> 5.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }
}
