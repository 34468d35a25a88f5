output "regions" {
  description = "Per region: namespace, release status and public hosts."
  value = {
    "eu-west"      = { namespace = module.region_eu_west.namespace, status = module.region_eu_west.release_status, hosts = module.region_eu_west.public_hosts }
    "us-east"      = { namespace = module.region_us_east.namespace, status = module.region_us_east.release_status, hosts = module.region_us_east.public_hosts }
    "ap-northeast" = { namespace = module.region_ap_northeast.namespace, status = module.region_ap_northeast.release_status, hosts = module.region_ap_northeast.public_hosts }
  }
}

output "cockroach_survival_goal" {
  description = "Survival goal of the kratos and hydra databases (region, with three regions)."
  value       = module.cockroach.survival_goal
}

output "keyrotation_vault" {
  description = "What the key-rotation job uses in Vault: KV mount and prefix, policy, role and each region's auth mount."
  value = {
    kv_mount    = module.vault.kv_mount
    kv_prefix   = module.vault.keyrotation_prefix
    policy      = module.vault.keyrotation_policy
    role        = module.vault.kubernetes_role
    auth_mounts = module.vault.kubernetes_auth_mounts
  }
}
