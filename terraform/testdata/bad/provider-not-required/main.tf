resource "vault_policy" "p" {
  name   = "p"
  policy = ""
}
