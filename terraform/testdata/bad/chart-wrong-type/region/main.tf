variable "name" {
  type        = string
  description = "Region name."
}

variable "chart_path" {
  type        = string
  description = "Path of the chart."
}

locals {
  chart_values = {
    global = { issuer = "https://issuer.example/" }
    region = {
      name   = var.name
      domain = "example.com"
      # The one defect: the schema wants a boolean.
      primary = var.name
    }
    database = {
      existingSecret     = "db"
      certificatesSecret = "db-certs"
    }
    kratos = {
      enabled = true
      secrets = { existingSecret = "kratos" }
    }
    hydra = {
      enabled = true
      secrets = { existingSecret = "hydra" }
    }
    bridge = { enabled = true }
    keyrotation = {
      enabled = true
      vault = {
        address = "https://vault.example:8200"
        role    = "keyrotation"
        mount   = "kubernetes-${var.name}"
        kvMount = "idstack"
      }
    }
  }
}

resource "helm_release" "region" {
  name   = "idstack"
  chart  = var.chart_path
  values = [yamlencode(local.chart_values)]
}
