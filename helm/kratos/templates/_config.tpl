{{/*
kratos.config: kratos.yml. Region-derived URLs first, then .Values.config
merged over them (values win). Secrets and the DSN are never in here: they
come from the environment (DSN, SECRETS_*).
*/}}
{{- define "kratos.config" -}}
{{- $ui := include "kratos.loginURL" . -}}
{{- $cookieDomain := printf "%s.%s" .Values.region.name .Values.region.domain -}}
{{- $returnURLs := list (printf "%s/" $ui) -}}
{{- range .Values.global.regions -}}
{{- $returnURLs = append $returnURLs (printf "%s://login.%s.%s/" $.Values.region.scheme . $.Values.region.domain) -}}
{{- end -}}
{{- $base := dict
  "serve" (dict
    "public" (dict "base_url" (printf "%s/" (include "kratos.publicURL" .)) "host" "0.0.0.0" "port" 4433 "cors" (dict "enabled" false))
    "admin" (dict "base_url" (printf "http://%s-admin:4434/" (include "kratos.fullname" .)) "host" "0.0.0.0" "port" 4434))
  "selfservice" (dict
    "default_browser_return_url" (printf "%s/" $ui)
    "allowed_return_urls" ($returnURLs | uniq)
    "methods" (dict
      "password" (dict "enabled" true "config" (dict "haveibeenpwned_enabled" .Values.haveIBeenPwned))
      "code" (dict "enabled" true)
      "profile" (dict "enabled" true)
      "link" (dict "enabled" false)
      "totp" (dict "enabled" .Values.totp.enabled "config" (dict "issuer" (.Values.totp.issuer | default .Values.region.domain))))
    "flows" (dict
      "error" (dict "ui_url" (printf "%s/error" $ui))
      "settings" (dict "ui_url" (printf "%s/settings" $ui) "privileged_session_max_age" "15m" "required_aal" "highest_available")
      "recovery" (dict "enabled" true "ui_url" (printf "%s/recovery" $ui) "use" "code")
      "verification" (dict "enabled" true "ui_url" (printf "%s/verification" $ui) "use" "code" "after" (dict "default_browser_return_url" (printf "%s/" $ui)))
      "logout" (dict "after" (dict "default_browser_return_url" (printf "%s/login" $ui)))
      "login" (dict "ui_url" (printf "%s/login" $ui) "lifespan" "10m")
      "registration" (dict "enabled" true "ui_url" (printf "%s/registration" $ui) "lifespan" "10m" "enable_legacy_one_step" true
        "after" (dict "password" (dict "hooks" (list (dict "hook" "session")))))))
  "log" (dict "level" .Values.log.level "format" .Values.log.format "leak_sensitive_values" false)
  "ciphers" (dict "algorithm" "xchacha20-poly1305")
  "hashers" (dict "algorithm" "bcrypt" "bcrypt" (dict "cost" 12))
  "identity" (dict "default_schema_id" "default" "schemas" (list (dict "id" "default" "url" "file:///etc/idstack/identity/identity.schema.json")))
  "courier" (dict "smtp" (dict "from_address" (.Values.courier.smtp.fromAddress | default (printf "no-reply@%s" .Values.region.domain)) "from_name" .Values.courier.smtp.fromName))
  "cookies" (dict "domain" $cookieDomain "path" "/" "same_site" "Lax")
  "session" (dict "lifespan" "24h" "cookie" (dict "domain" $cookieDomain "path" "/" "same_site" "Lax"))
  "oauth2_provider" (dict "url" (include "kratos.hydraAdminURL" .))
-}}
{{- if .Values.courier.smtp.connectionURI -}}
{{- $_ := set $base.courier.smtp "connection_uri" .Values.courier.smtp.connectionURI -}}
{{- end -}}
{{- toYaml (mergeOverwrite $base (deepCopy .Values.config)) -}}
{{- end -}}

{{- define "kratos.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "kratos.fullname" . }}-config
  labels:
    {{- include "kratos.labels" . | nindent 4 }}
data:
  kratos.yml: |
    {{- include "kratos.config" . | nindent 4 }}
  identity.schema.json: |
    {{- (.Values.identitySchema | default (.Files.Get "files/identity.schema.json")) | nindent 4 }}
{{- end -}}
