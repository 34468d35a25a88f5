{{/*
Named templates are global across a chart and its parent: every name here
starts with "hydra.". The umbrella chart (idstack-region) renders
"hydra.manifests" with a context whose .Values carry the region's settings.
*/}}

{{/* hydra.name: the chart's name, or nameOverride (the app.kubernetes.io/name label, the suffix of every name). */}}
{{- define "hydra.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "hydra.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "hydra.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "hydra.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hydra.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "hydra.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "hydra.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: idstack
{{- with .Values.region.name }}
idstack.dev/region: {{ . }}
{{- end }}
{{- end -}}

{{- define "hydra.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "hydra.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "hydra.fullname" .)) -}}
{{- end -}}

{{- define "hydra.regionHost" -}}
{{- $r := required "region.name is required (e.g. eu-west)" .ctx.Values.region.name -}}
{{- $d := required "region.domain is required (e.g. idstack.example.com)" .ctx.Values.region.domain -}}
{{- printf "%s.%s.%s" .host $r $d -}}
{{- end -}}

{{- define "hydra.publicURL" -}}
{{- printf "%s://%s" .Values.region.scheme (include "hydra.regionHost" (dict "ctx" . "host" "hydra")) -}}
{{- end -}}

{{- define "hydra.loginURL" -}}
{{- printf "%s://%s" .Values.region.scheme (include "hydra.regionHost" (dict "ctx" . "host" "login")) -}}
{{- end -}}

{{- define "hydra.janitorEnabled" -}}
{{- if and .Values.janitor.enabled .Values.region.primary }}true{{ end -}}
{{- end -}}

{{/* Pod-level hardening: never weakened by values. */}}
{{- define "hydra.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsUser }}
fsGroup: {{ .Values.securityContext.runAsUser }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "hydra.containerSecurityContext" -}}
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

{{/* Environment every Hydra container shares: DSN and secrets from Secrets. */}}
{{- define "hydra.env" -}}
- name: DSN
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret is required: a Secret with the key hydra-dsn" .Values.database.existingSecret }}
      key: {{ .Values.database.dsnKey }}
- name: SECRETS_SYSTEM
  valueFrom:
    secretKeyRef:
      name: {{ include "hydra.secretName" . }}
      key: secretsSystem
- name: SECRETS_COOKIE
  valueFrom:
    secretKeyRef:
      name: {{ include "hydra.secretName" . }}
      key: secretsCookie
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "hydra.dbCertsVolumeMount" -}}
{{- if .Values.database.certificatesSecret -}}
- name: db-certs
  mountPath: /etc/idstack/db-certs
  readOnly: true
{{- end }}
{{- end -}}

{{- define "hydra.dbCertsVolume" -}}
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

{{- define "hydra.checksums" -}}
checksum/config: {{ include "hydra.configmap" . | sha256sum }}
{{- if .Values.secrets.existingSecret }}
{{- $s := lookup "v1" "Secret" .Release.Namespace .Values.secrets.existingSecret }}
{{- if $s }}
checksum/secrets: {{ toJson $s.data | sha256sum }}
{{- end }}
{{- end }}
{{- end -}}
