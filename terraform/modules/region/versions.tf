terraform {
  # 1.9 is the first release whose variable validations may refer to other
  # variables; every module here relies on that.
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.38"
    }
    # 3.x: the provider's kubernetes settings are an attribute
    # (kubernetes = { ... }), not a block.
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.0"
    }
    vault = {
      source  = "hashicorp/vault"
      version = "~> 5.0"
    }
  }
}
