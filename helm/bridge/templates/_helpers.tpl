{{/* Every name here starts with "bridge." (named templates are global across the umbrella). */}}

{{/* bridge.name: the chart's name, or nameOverride (the app.kubernetes.io/name label, the suffix of every name). */}}
{{- define "bridge.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bridge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "bridge.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "bridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "bridge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "bridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: idstack
{{- with .Values.region.name }}
idstack.dev/region: {{ . }}
{{- end }}
{{- end -}}

{{- define "bridge.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "bridge.regionHost" -}}
{{- $r := required "region.name is required (e.g. eu-west)" .ctx.Values.region.name -}}
{{- $d := required "region.domain is required (e.g. idstack.example.com)" .ctx.Values.region.domain -}}
{{- printf "%s.%s.%s" .host $r $d -}}
{{- end -}}

{{- define "bridge.origin" -}}
{{- printf "%s://%s" .ctx.Values.region.scheme (include "bridge.regionHost" .) -}}
{{- end -}}

{{- define "bridge.csrfSecretName" -}}
{{- .Values.csrf.existingSecret | default (printf "%s-csrf" (include "bridge.fullname" .)) -}}
{{- end -}}

{{- define "bridge.scheme" -}}
{{- if .Values.tls.existingSecret }}HTTPS{{ else }}HTTP{{ end -}}
{{- end -}}

{{/*
bridge.externalTLS: "true" when browsers reach the bridge over HTTPS through
a proxy that ends TLS: externalTLS, or an ingress with a tlsSecret.
*/}}
{{- define "bridge.externalTLS" -}}
{{- if or .Values.externalTLS (and .Values.ingress.enabled .Values.ingress.tlsSecret) }}true{{ else }}false{{ end -}}
{{- end -}}

{{- define "bridge.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsUser }}
fsGroup: {{ .Values.securityContext.runAsUser }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "bridge.containerSecurityContext" -}}
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

{{/*
bridge.env: every bridge setting (bridge/README.md), as BRIDGE_* variables.
Defaults derive from the region; each one can be set in values.
*/}}
{{- define "bridge.env" -}}
{{- $kratosPublic := .Values.kratosPublicURL | default (include "bridge.origin" (dict "ctx" . "host" "kratos")) -}}
{{- $hydraPublic := include "bridge.origin" (dict "ctx" . "host" "hydra") -}}
{{- $returnTo := .Values.returnTo | default (list (printf "*.%s" .Values.region.domain)) -}}
{{- $formActions := .Values.formActions | default (list $kratosPublic $hydraPublic) -}}
- {name: BRIDGE_LISTEN_ADDR, value: {{ printf ":%d" (int .Values.port) | quote }}}
- {name: BRIDGE_KRATOS_PUBLIC_URL, value: {{ $kratosPublic | quote }}}
- {name: BRIDGE_KRATOS_ADMIN_URL, value: {{ .Values.kratosAdminURL | default (printf "http://%s-kratos-admin:4434" .Release.Name) | quote }}}
- {name: BRIDGE_HYDRA_ADMIN_URL, value: {{ .Values.hydraAdminURL | default (printf "http://%s-hydra-admin:4445" .Release.Name) | quote }}}
- {name: BRIDGE_RETURN_TO, value: {{ join "," $returnTo | quote }}}
- {name: BRIDGE_FORM_ACTIONS, value: {{ join "," $formActions | quote }}}
- {name: BRIDGE_FIRST_PARTY, value: {{ join "," .Values.firstParty | quote }}}
{{- /* Empty: "" (the bridge's default mapping); "{}" would map no claim at all. */}}
- {name: BRIDGE_CLAIM_MAPPING, value: {{ if .Values.claimMapping }}{{ toJson .Values.claimMapping | quote }}{{ else }}""{{ end }}}
- {name: BRIDGE_REMEMBER_FOR, value: {{ .Values.rememberFor | quote }}}
- {name: BRIDGE_CSRF_SECRET_FILE, value: /etc/idstack/bridge-csrf/csrf-secret}
{{- if .Values.tls.existingSecret }}
- {name: BRIDGE_TLS_CERT, value: /etc/idstack/bridge-tls/tls.crt}
- {name: BRIDGE_TLS_KEY, value: /etc/idstack/bridge-tls/tls.key}
{{- end }}
- {name: BRIDGE_EXTERNAL_TLS, value: {{ include "bridge.externalTLS" . | quote }}}
- {name: BRIDGE_UPSTREAM_TIMEOUT, value: {{ .Values.upstreamTimeout | quote }}}
- {name: BRIDGE_SHUTDOWN_TIMEOUT, value: {{ .Values.shutdownTimeout | quote }}}
- {name: BRIDGE_REGION, value: {{ .Values.region.name | quote }}}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
bridge.checksums: the settings, and the CSRF Secret named by
csrf.existingSecret as the cluster has it (the bridge reads it once, at
start), so a changed setting or a new secret rolls the pods.
*/}}
{{- define "bridge.checksums" -}}
checksum/config: {{ include "bridge.env" . | sha256sum }}
{{- if .Values.csrf.existingSecret }}
{{- $s := lookup "v1" "Secret" .Release.Namespace .Values.csrf.existingSecret }}
{{- if $s }}
checksum/secrets: {{ toJson $s.data | sha256sum }}
{{- end }}
{{- end }}
{{- end -}}
