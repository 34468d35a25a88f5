{{/* Every name here starts with "keyrotation." (named templates are global across the umbrella). */}}

{{/* keyrotation.name: the chart's name, or nameOverride (the app.kubernetes.io/name label, the suffix of every name). */}}
{{- define "keyrotation.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "keyrotation.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "keyrotation.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "keyrotation.selectorLabels" -}}
app.kubernetes.io/name: {{ include "keyrotation.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "keyrotation.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "keyrotation.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: idstack
{{- with .Values.region.name }}
idstack.dev/region: {{ . }}
{{- end }}
{{- end -}}

{{- define "keyrotation.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "keyrotation.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "keyrotation.fullname" .) -}}
{{- end -}}

{{/* --regions: name=Hydra public URL for every region whose JWKS must serve a key before it signs. */}}
{{- define "keyrotation.regions" -}}
{{- $r := required "region.name is required (e.g. eu-west)" .Values.region.name -}}
{{- $d := required "region.domain is required (e.g. idstack.example.com)" .Values.region.domain -}}
{{- $out := list -}}
{{- if .Values.regions -}}
{{- range $name, $url := .Values.regions -}}
{{- $out = append $out (printf "%s=%s" $name $url) -}}
{{- end -}}
{{- else -}}
{{- range ((.Values.global.regions | default (list $r)) | uniq) -}}
{{- $out = append $out (printf "%s=%s://hydra.%s.%s" . $.Values.region.scheme . $d) -}}
{{- end -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{- define "keyrotation.sets" -}}
{{- $out := list -}}
{{- range .Values.policy.sets -}}
{{- if .bits -}}
{{- $out = append $out (printf "%s:%s:%d" .name .alg (int .bits)) -}}
{{- else -}}
{{- $out = append $out (printf "%s:%s" .name .alg) -}}
{{- end -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/* Every flag as KEYROTATION_* (keyrotation/README.md, "Flags and environment"). */}}
{{- define "keyrotation.env" -}}
- {name: KEYROTATION_VAULT_ADDR, value: {{ required "vault.address is required (e.g. https://vault.example.com:8200)" .Values.vault.address | quote }}}
- {name: KEYROTATION_VAULT_AUTH, value: kubernetes}
- {name: KEYROTATION_VAULT_ROLE, value: {{ required "vault.role is required: the Vault Kubernetes-auth role bound to this job's ServiceAccount" .Values.vault.role | quote }}}
- {name: KEYROTATION_VAULT_AUTH_MOUNT, value: {{ .Values.vault.mount | quote }}}
- {name: KEYROTATION_VAULT_SA_TOKEN_FILE, value: /var/run/secrets/idstack/vault/token}
- {name: KEYROTATION_VAULT_TIMEOUT, value: {{ .Values.vault.timeout | quote }}}
{{- if .Values.vault.caSecret }}
- {name: VAULT_CACERT, value: /etc/idstack/vault-ca/ca.crt}
{{- end }}
- {name: KEYROTATION_KV_MOUNT, value: {{ .Values.vault.kvMount | quote }}}
- {name: KEYROTATION_KV_PREFIX, value: {{ .Values.vault.kvPrefix | quote }}}
- {name: KEYROTATION_HYDRA_ADMIN_URL, value: {{ .Values.hydraAdminURL | default (printf "http://%s-hydra-admin:4445" .Release.Name) | quote }}}
- {name: KEYROTATION_ISSUER, value: {{ required "global.issuer is required: Hydra's issuer URL" .Values.global.issuer | quote }}}
- {name: KEYROTATION_REGIONS, value: {{ include "keyrotation.regions" . | quote }}}
- {name: KEYROTATION_SETS, value: {{ include "keyrotation.sets" . | quote }}}
- {name: KEYROTATION_CADENCE, value: {{ .Values.policy.cadence | quote }}}
- {name: KEYROTATION_LEAD, value: {{ .Values.policy.lead | quote }}}
- {name: KEYROTATION_OVERLAP, value: {{ .Values.policy.overlap | quote }}}
- {name: KEYROTATION_SKEW, value: {{ .Values.policy.skew | quote }}}
- {name: KEYROTATION_VERIFIER_CACHE_TTL, value: {{ .Values.policy.verifierCacheTTL | quote }}}
- {name: KEYROTATION_MAX_TOKEN_LIFETIME, value: {{ .Values.policy.maxTokenLifetime | quote }}}
- {name: KEYROTATION_LEASE_TTL, value: {{ .Values.policy.leaseTTL | quote }}}
- {name: KEYROTATION_HTTP_TIMEOUT, value: {{ .Values.httpTimeout | quote }}}
{{- if .Values.hydraConfigMap }}
- {name: KEYROTATION_HYDRA_CONFIG, value: /etc/idstack/hydra/hydra.yml}
{{- end }}
- name: KEYROTATION_ACTOR
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
