{{/*
Named templates are global across a chart and its parent: every name here
starts with "kratos.". The umbrella chart (idstack-region) renders
"kratos.manifests" with a context whose .Values carry the region's settings.
*/}}

{{/* kratos.name: the chart's name, or nameOverride (the app.kubernetes.io/name label, the suffix of every name). */}}
{{- define "kratos.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kratos.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "kratos.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kratos.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kratos.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kratos.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "kratos.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: idstack
{{- with .Values.region.name }}
idstack.dev/region: {{ . }}
{{- end }}
{{- end -}}

{{- define "kratos.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "kratos.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "kratos.fullname" .)) -}}
{{- end -}}

{{- define "kratos.regionHost" -}}
{{- $r := required "region.name is required (e.g. eu-west)" .ctx.Values.region.name -}}
{{- $d := required "region.domain is required (e.g. idstack.example.com)" .ctx.Values.region.domain -}}
{{- printf "%s.%s.%s" .host $r $d -}}
{{- end -}}

{{- define "kratos.publicURL" -}}
{{- printf "%s://%s" .Values.region.scheme (include "kratos.regionHost" (dict "ctx" . "host" "kratos")) -}}
{{- end -}}

{{- define "kratos.loginURL" -}}
{{- printf "%s://%s" .Values.region.scheme (include "kratos.regionHost" (dict "ctx" . "host" "login")) -}}
{{- end -}}

{{- define "kratos.hydraAdminURL" -}}
{{- .Values.hydraAdminURL | default (printf "http://%s-hydra-admin:4445" .Release.Name) -}}
{{- end -}}

{{- define "kratos.courierEnabled" -}}
{{- if and .Values.courier.enabled .Values.region.primary }}true{{ end -}}
{{- end -}}

{{/* Pod-level hardening: never weakened by values. */}}
{{- define "kratos.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsUser }}
fsGroup: {{ .Values.securityContext.runAsUser }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "kratos.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsUser }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment every Kratos container shares: DSN and secrets from Secrets. */}}
{{- define "kratos.env" -}}
- name: DSN
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret is required: a Secret with the key kratos-dsn" .Values.database.existingSecret }}
      key: {{ .Values.database.dsnKey }}
- name: SECRETS_COOKIE
  valueFrom:
    secretKeyRef:
      name: {{ include "kratos.secretName" . }}
      key: secretsCookie
- name: SECRETS_CIPHER
  valueFrom:
    secretKeyRef:
      name: {{ include "kratos.secretName" . }}
      key: secretsCipher
- name: SECRETS_DEFAULT
  valueFrom:
    secretKeyRef:
      name: {{ include "kratos.secretName" . }}
      key: secretsDefault
{{- with .Values.courier.smtp.existingSecret }}
- name: COURIER_SMTP_CONNECTION_URI
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.courier.smtp.existingSecretKey }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "kratos.dbCertsVolumeMount" -}}
{{- if .Values.database.certificatesSecret -}}
- name: db-certs
  mountPath: /etc/idstack/db-certs
  readOnly: true
{{- end }}
{{- end -}}

{{- define "kratos.dbCertsVolume" -}}
{{- with .Values.database.certificatesSecret -}}
- name: db-certs
  secret:
    secretName: {{ . }}
    defaultMode: 0440
    items:
      - {key: ca.crt, path: ca.crt}
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
{{- end }}
{{- end -}}

{{- define "kratos.checksums" -}}
checksum/config: {{ include "kratos.configmap" . | sha256sum }}
{{- if .Values.secrets.existingSecret }}
{{- $s := lookup "v1" "Secret" .Release.Namespace .Values.secrets.existingSecret }}
{{- if $s }}
checksum/secrets: {{ toJson $s.data | sha256sum }}
{{- end }}
{{- end }}
{{- end -}}
