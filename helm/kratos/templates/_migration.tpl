{{/*
kratos.migrationJob (migration.mode=job): a pre-install/pre-upgrade hook, so
no Kratos pod starts on an old schema. It must not fail just because the
database is not reachable yet (ory/k8s#451): with database.waitFor set, an
init container waits until host:port accepts connections; the Job also
retries (backoffLimit) within activeDeadlineSeconds. Give helm --timeout
more than that deadline.
It uses only resources that exist before the release (the DSN Secret and the
certificates Secret), and the namespace's default ServiceAccount with no token.
*/}}
{{- define "kratos.waitForDatabase" -}}
{{- if .Values.database.waitFor -}}
{{- $img := required "migration.waitImage.repository is required with database.waitFor (an image with sh and nc, such as busybox)" .Values.migration.waitImage.repository -}}
{{- $hp := splitList ":" .Values.database.waitFor -}}
- name: wait-for-database
  image: {{ $img }}:{{ .Values.migration.waitImage.tag }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["sh", "-c", "until nc -z -w 3 \"$DB_HOST\" \"$DB_PORT\"; do echo waiting for $DB_HOST:$DB_PORT; sleep 3; done"]
  env:
    - {name: DB_HOST, value: {{ first $hp | quote }}}
    - {name: DB_PORT, value: {{ last $hp | quote }}}
  securityContext:
    {{- include "kratos.containerSecurityContext" . | nindent 4 }}
  resources:
    requests: {cpu: 10m, memory: 16Mi}
    limits: {memory: 32Mi}
{{- end -}}
{{- end -}}

{{- define "kratos.migrationJob" -}}
{{- if eq .Values.migration.mode "job" -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "kratos.fullname" . }}-migrate
  labels:
    {{- include "kratos.labels" . | nindent 4 }}
    app.kubernetes.io/component: migration
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  backoffLimit: {{ .Values.migration.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.migration.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "kratos.labels" . | nindent 8 }}
        app.kubernetes.io/component: migration
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      securityContext:
        {{- include "kratos.podSecurityContext" . | nindent 8 }}
      {{- with .Values.global.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if .Values.database.waitFor }}
      initContainers:
        {{- include "kratos.waitForDatabase" . | nindent 8 }}
      {{- end }}
      containers:
        {{- include "kratos.migrateContainer" . | nindent 8 }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- with include "kratos.dbCertsVolume" . }}{{ . | nindent 8 }}{{ end }}
{{- end -}}
{{- end -}}

{{- define "kratos.hpa" -}}
{{- if .Values.autoscaling.enabled -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "kratos.fullname" . }}
  labels:
    {{- include "kratos.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "kratos.fullname" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.targetCPUUtilizationPercentage }}
{{- end -}}
{{- end -}}

{{- define "kratos.pdb" -}}
{{- if .Values.pdb.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "kratos.fullname" . }}
  labels:
    {{- include "kratos.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "kratos.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
{{- end -}}
{{- end -}}

{{- define "kratos.serviceMonitor" -}}
{{- if .Values.serviceMonitor.enabled -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "kratos.fullname" . }}
  labels:
    {{- include "kratos.labels" . | nindent 4 }}
    {{- with .Values.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "kratos.selectorLabels" . | nindent 6 }}
      idstack.dev/port: admin
  endpoints:
    - port: http-admin
      path: /admin/metrics/prometheus
      interval: {{ .Values.serviceMonitor.interval }}
      scrapeTimeout: {{ .Values.serviceMonitor.scrapeTimeout }}
{{- end -}}
{{- end -}}

{{/* Every resource of the chart, in one stream. */}}
{{- define "kratos.manifests" -}}
{{- range $t := list "kratos.serviceaccount" "kratos.configmap" "kratos.secret" "kratos.services" "kratos.deployment" "kratos.courier" "kratos.ingress" "kratos.migrationJob" "kratos.hpa" "kratos.pdb" "kratos.serviceMonitor" }}
{{- $out := include $t $ | trim | trimPrefix "---" | trim }}
{{- if $out }}
---
{{ $out }}
{{- end }}
{{- end }}
{{- end -}}
