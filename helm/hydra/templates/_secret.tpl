{{/*
hydra.secret: only when secrets.existingSecret is empty. Each value is
generated ONCE: on upgrade, lookup returns the Secret in the cluster and its
values are kept (ory/k8s#339: regenerated secrets make Hydra's stored JWKs
and client secrets undecryptable). helm.sh/resource-policy keep leaves the Secret in
place on uninstall, so a reinstall finds it too.
Tools that render without a cluster (helm template, some GitOps tools) cannot
look it up: use secrets.existingSecret there.
*/}}
{{- define "hydra.secret" -}}
{{- if not .Values.secrets.existingSecret -}}
{{- $name := include "hydra.secretName" . -}}
{{- $old := (lookup "v1" "Secret" .Release.Namespace $name).data | default dict -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ $name }}
  labels:
    {{- include "hydra.labels" . | nindent 4 }}
  annotations:
    helm.sh/resource-policy: keep
type: Opaque
data:
  {{- /* secretsSystem encrypts keys and secrets in the database: never regenerate it. */}}
  secretsSystem: {{ get $old "secretsSystem" | default (randAlphaNum 32 | b64enc) | quote }}
  secretsCookie: {{ get $old "secretsCookie" | default (randAlphaNum 32 | b64enc) | quote }}
{{- end -}}
{{- end -}}
