{{/*
hydra.config: hydra.yml. The issuer is global (global.issuer), so tokens
issued in one region verify in every region; the public URL discovery
advertises is the region's own host. .Values.config is merged over the
derived config (values win). The DSN and secrets come from the environment.
*/}}
{{- define "hydra.config" -}}
{{- $ui := include "hydra.loginURL" . -}}
{{- $issuer := required "global.issuer is required: Hydra's issuer URL, the same in every region" .Values.global.issuer -}}
{{- $base := dict
  "serve" (dict
    "public" (dict "host" "0.0.0.0" "port" 4444)
    "admin" (dict "host" "0.0.0.0" "port" 4445)
    "cookies" (dict "same_site_mode" "Lax" "domain" (printf "%s.%s" .Values.region.name .Values.region.domain)))
  "urls" (dict
    "self" (dict
      "issuer" $issuer
      "public" (printf "%s/" (include "hydra.publicURL" .))
      "admin" (printf "http://%s-admin:4445/" (include "hydra.fullname" .)))
    "login" (printf "%s/login" $ui)
    "registration" (printf "%s/registration" $ui)
    "consent" (printf "%s/consent" $ui)
    "logout" (printf "%s/logout" $ui)
    "error" (printf "%s/error" $ui)
    "post_logout_redirect" (printf "%s/logged-out" $ui))
  "strategies" (dict "access_token" .Values.accessTokenStrategy)
  "oidc" (dict "subject_identifiers" (dict "supported_types" (list "public")))
  "ttl" (deepCopy .Values.ttl)
  "log" (dict "level" .Values.log.level "format" .Values.log.format "leak_sensitive_values" false)
-}}
{{- toYaml (mergeOverwrite $base (deepCopy .Values.config)) -}}
{{- end -}}

{{- define "hydra.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "hydra.fullname" . }}-config
  labels:
    {{- include "hydra.labels" . | nindent 4 }}
data:
  hydra.yml: |
    {{- include "hydra.config" . | nindent 4 }}
{{- end -}}
