{{/*
kratos.secret: only when secrets.existingSecret is empty. Each value is
generated ONCE: on upgrade, lookup returns the Secret in the cluster and its
values are kept (ory/k8s#339: regenerated secrets log every user out and make
ciphered data unreadable). helm.sh/resource-policy keep leaves the Secret in
place on uninstall, so a reinstall finds it too.
Tools that render without a cluster (helm template, some GitOps tools) cannot
look it up: use secrets.existingSecret there.
*/}}
{{- define "kratos.secret" -}}
{{- if not .Values.secrets.existingSecret -}}
{{- $name := include "kratos.secretName" . -}}
{{- $old := (lookup "v1" "Secret" .Release.Namespace $name).data | default dict -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ $name }}
  labels:
    {{- include "kratos.labels" . | nindent 4 }}
  annotations:
    helm.sh/resource-policy: keep
type: Opaque
data:
  {{- /* Kratos' cipher secret must be exactly 32 characters. */}}
  secretsCookie: {{ get $old "secretsCookie" | default (randAlphaNum 32 | b64enc) | quote }}
  secretsCipher: {{ get $old "secretsCipher" | default (randAlphaNum 32 | b64enc) | quote }}
  secretsDefault: {{ get $old "secretsDefault" | default (randAlphaNum 32 | b64enc) | quote }}
{{- end -}}
{{- end -}}
