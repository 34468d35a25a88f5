output "namespace" {
  description = "Namespace of the region's release."
  value       = local.namespace
}

output "release_name" {
  description = "Name of the Helm release."
  value       = helm_release.region.name
}

output "release_status" {
  description = "Status Helm reports for the release (deployed when healthy)."
  value       = helm_release.region.status
}

output "public_hosts" {
  description = "The region's public hosts, as the chart derives them from region.name and region.domain."
  value = {
    login  = "login.${var.name}.${var.domain}"
    kratos = "kratos.${var.name}.${var.domain}"
    hydra  = "hydra.${var.name}.${var.domain}"
  }
}

output "secrets" {
  description = "Names of the Secrets this module made for the chart."
  value = {
    database              = kubernetes_secret_v1.database.metadata[0].name
    database_certificates = kubernetes_secret_v1.database_certificates.metadata[0].name
    kratos                = kubernetes_secret_v1.kratos.metadata[0].name
    hydra                 = kubernetes_secret_v1.hydra.metadata[0].name
  }
}
