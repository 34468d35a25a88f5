variable "name" {
  type        = string
  description = "Region name."
}

variable "ingress" {
  type        = object({ enabled = bool, className = string })
  description = "Ingress settings."
}

variable "chart_path" {
  type        = string
  description = "Path of the chart."
}

locals {
  chart_values = {
    global = { issuer = "https://issuer.example/" }
    region = {
      name    = var.name
      domain  = "example.com"
      primary = true
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
    # The one defect: a map of the chart's given as an expression, whose
    # keys cannot be checked.
    ingress = var.ingress
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
