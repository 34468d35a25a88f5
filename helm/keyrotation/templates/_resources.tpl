{{/*
keyrotation.serviceAccount: the identity Vault's Kubernetes auth method
checks. Bind vault.role to this name and namespace. With
serviceAccount.authDelegator the account may call TokenReview, for a Vault
that reviews with the client's own token (no reviewer JWT of its own).
*/}}
{{- define "keyrotation.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "keyrotation.serviceAccountName" . }}
  labels:
    {{- include "keyrotation.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- if .Values.serviceAccount.authDelegator }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ printf "%s-%s-auth-delegator" .Release.Namespace (include "keyrotation.fullname" .) | trunc 63 | trimSuffix "-" }}
  labels:
    {{- include "keyrotation.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:auth-delegator
subjects:
  - kind: ServiceAccount
    name: {{ include "keyrotation.serviceAccountName" . }}
    namespace: {{ .Release.Namespace }}
{{- end }}
{{- end -}}

{{/*
keyrotation.cronJob: one `keyrotation step` per run. concurrencyPolicy
Forbid; the job also holds a lease in Vault, so a second run anywhere exits
0. Only the primary region runs it (region.primary).
*/}}
{{- define "keyrotation.cronJob" -}}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "keyrotation.fullname" . }}
  labels:
    {{- include "keyrotation.labels" . | nindent 4 }}
    app.kubernetes.io/component: rotation
spec:
  schedule: {{ .Values.schedule | quote }}
  {{- with .Values.timeZone }}
  timeZone: {{ . | quote }}
  {{- end }}
  suspend: {{ .Values.suspend }}
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: {{ .Values.startingDeadlineSeconds }}
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 5
  jobTemplate:
    metadata:
      labels:
        {{- include "keyrotation.labels" . | nindent 8 }}
        app.kubernetes.io/component: rotation
    spec:
      # Every step converges from wherever the last one stopped: the next
      # scheduled run is the retry.
      backoffLimit: 0
      activeDeadlineSeconds: {{ .Values.activeDeadlineSeconds }}
      template:
        metadata:
          labels:
            {{- include "keyrotation.labels" . | nindent 12 }}
            app.kubernetes.io/component: rotation
          annotations:
            checksum/config: {{ include "keyrotation.env" . | sha256sum }}
        spec:
          restartPolicy: Never
          serviceAccountName: {{ include "keyrotation.serviceAccountName" . }}
          automountServiceAccountToken: false
          securityContext:
            runAsNonRoot: true
            runAsUser: {{ .Values.securityContext.runAsUser }}
            runAsGroup: {{ .Values.securityContext.runAsUser }}
            fsGroup: {{ .Values.securityContext.runAsUser }}
            seccompProfile:
              type: RuntimeDefault
          {{- with .Values.global.imagePullSecrets }}
          imagePullSecrets:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .Values.nodeSelector }}
          nodeSelector:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .Values.tolerations }}
          tolerations:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .Values.affinity }}
          affinity:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          containers:
            - name: keyrotation
              image: {{ include "keyrotation.image" . }}
              imagePullPolicy: {{ .Values.image.pullPolicy }}
              args: ["step"]
              env:
                {{- include "keyrotation.env" . | nindent 16 }}
              securityContext:
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
              resources:
                {{- toYaml .Values.resources | nindent 16 }}
              volumeMounts:
                - {name: vault-token, mountPath: /var/run/secrets/idstack/vault, readOnly: true}
                {{- if .Values.vault.caSecret }}
                - {name: vault-ca, mountPath: /etc/idstack/vault-ca, readOnly: true}
                {{- end }}
                {{- if .Values.hydraConfigMap }}
                - {name: hydra-config, mountPath: /etc/idstack/hydra, readOnly: true}
                {{- end }}
                - {name: tmp, mountPath: /tmp}
          volumes:
            # A short-lived token for Vault's Kubernetes auth only; the pod
            # mounts no other API credentials.
            - name: vault-token
              projected:
                sources:
                  - serviceAccountToken:
                      path: token
                      expirationSeconds: {{ .Values.vault.tokenExpirationSeconds }}
                      {{- with .Values.vault.tokenAudience }}
                      audience: {{ . | quote }}
                      {{- end }}
            {{- with .Values.vault.caSecret }}
            - name: vault-ca
              secret:
                secretName: {{ . }}
                items:
                  - {key: ca.crt, path: ca.crt}
            {{- end }}
            {{- with .Values.hydraConfigMap }}
            - name: hydra-config
              configMap:
                name: {{ . }}
                items:
                  - {key: hydra.yml, path: hydra.yml}
            {{- end }}
            - name: tmp
              emptyDir:
                sizeLimit: 16Mi
{{- end -}}

{{- define "keyrotation.manifests" -}}
{{- if .Values.region.primary }}
{{- range $t := list "keyrotation.serviceAccount" "keyrotation.cronJob" }}
{{- $out := include $t $ | trim }}
{{- if $out }}
---
{{ $out }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
