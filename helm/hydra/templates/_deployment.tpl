{{- define "hydra.podCommon" -}}
serviceAccountName: {{ include "hydra.fullname" . }}
automountServiceAccountToken: false
securityContext:
  {{- include "hydra.podSecurityContext" . | nindent 2 }}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Migrations need only the DSN: Hydra skips config validation for them. */}}
{{- define "hydra.migrateContainer" -}}
- name: migrate
  image: {{ include "hydra.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["migrate", "sql", "up", "-e", "--yes"]
  env:
    - name: DSN
      valueFrom:
        secretKeyRef:
          name: {{ required "database.existingSecret is required: a Secret with the key hydra-dsn" .Values.database.existingSecret }}
          key: {{ .Values.database.dsnKey }}
  securityContext:
    {{- include "hydra.containerSecurityContext" . | nindent 4 }}
  resources:
    {{- toYaml .Values.migration.resources | nindent 4 }}
  volumeMounts:
    - {name: tmp, mountPath: /tmp}
    {{- with include "hydra.dbCertsVolumeMount" . }}{{ . | nindent 4 }}{{ end }}
{{- end -}}

{{- define "hydra.volumes" -}}
- name: config
  configMap:
    name: {{ include "hydra.fullname" . }}-config
    items:
      - {key: hydra.yml, path: hydra.yml}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- with include "hydra.dbCertsVolume" . }}
{{ . }}
{{- end }}
{{- end -}}

{{- define "hydra.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "hydra.fullname" . }}
  labels:
    {{- include "hydra.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "hydra.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  template:
    metadata:
      labels:
        {{- include "hydra.labels" . | nindent 8 }}
        app.kubernetes.io/component: server
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- include "hydra.checksums" . | nindent 8 }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "hydra.podCommon" . | nindent 6 }}
      {{- if .Values.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range .Values.topologySpread.topologyKeys }}
        - maxSkew: {{ $.Values.topologySpread.maxSkew }}
          topologyKey: {{ . }}
          whenUnsatisfiable: {{ $.Values.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "hydra.selectorLabels" $ | nindent 14 }}
              app.kubernetes.io/component: server
        {{- end }}
      {{- end }}
      terminationGracePeriodSeconds: 30
      {{- if eq .Values.migration.mode "initContainer" }}
      initContainers:
        {{- include "hydra.migrateContainer" . | nindent 8 }}
      {{- end }}
      containers:
        - name: hydra
          image: {{ include "hydra.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: ["serve", "all", "--config", "/etc/idstack/hydra.yml", "--sqa-opt-out"]
          env:
            {{- include "hydra.env" . | nindent 12 }}
          ports:
            - {name: http-public, containerPort: 4444, protocol: TCP}
            - {name: http-admin, containerPort: 4445, protocol: TCP}
          startupProbe:
            httpGet: {path: /health/alive, port: http-admin}
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet: {path: /health/alive, port: http-admin}
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            httpGet: {path: /health/ready, port: http-admin}
            periodSeconds: 5
            failureThreshold: 2
          securityContext:
            {{- include "hydra.containerSecurityContext" . | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          volumeMounts:
            - {name: config, mountPath: /etc/idstack/hydra.yml, subPath: hydra.yml, readOnly: true}
            - {name: tmp, mountPath: /tmp}
            {{- with include "hydra.dbCertsVolumeMount" . }}{{ . | nindent 12 }}{{ end }}
      volumes:
        {{- include "hydra.volumes" . | nindent 8 }}
{{- end -}}

{{/*
hydra.janitor: Hydra's janitor deletes expired tokens, login/consent requests
and grants. Every region shares one database, so it runs in the primary
region only (region.primary), never twice at once (concurrencyPolicy Forbid).
*/}}
{{- define "hydra.janitor" -}}
{{- if include "hydra.janitorEnabled" . -}}
{{- if gt (int64 .Values.janitor.batchSize) (int64 .Values.janitor.limit) -}}
{{- fail "janitor.batchSize must not be greater than janitor.limit (Hydra's janitor refuses it)" -}}
{{- end -}}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "hydra.fullname" . }}-janitor
  labels:
    {{- include "hydra.labels" . | nindent 4 }}
    app.kubernetes.io/component: janitor
spec:
  schedule: {{ .Values.janitor.schedule | quote }}
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 600
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 3
  jobTemplate:
    metadata:
      labels:
        {{- include "hydra.labels" . | nindent 8 }}
        app.kubernetes.io/component: janitor
    spec:
      backoffLimit: 2
      activeDeadlineSeconds: {{ .Values.janitor.activeDeadlineSeconds }}
      template:
        metadata:
          labels:
            {{- include "hydra.labels" . | nindent 12 }}
            app.kubernetes.io/component: janitor
          annotations:
            {{- include "hydra.checksums" . | nindent 12 }}
        spec:
          restartPolicy: Never
          {{- include "hydra.podCommon" . | nindent 10 }}
          containers:
            - name: janitor
              image: {{ include "hydra.image" . }}
              imagePullPolicy: {{ .Values.image.pullPolicy }}
              args:
                - janitor
                - --read-from-env
                - --config=/etc/idstack/hydra.yml
                - --keep-if-younger={{ .Values.janitor.keepIfYounger }}
                - --limit={{ int64 .Values.janitor.limit }}
                - --batch-size={{ int64 .Values.janitor.batchSize }}
                {{- range .Values.janitor.targets }}
                - --{{ . }}
                {{- end }}
              env:
                {{- include "hydra.env" . | nindent 16 }}
              securityContext:
                {{- include "hydra.containerSecurityContext" . | nindent 16 }}
              resources:
                {{- toYaml .Values.janitor.resources | nindent 16 }}
              volumeMounts:
                - {name: config, mountPath: /etc/idstack/hydra.yml, subPath: hydra.yml, readOnly: true}
                - {name: tmp, mountPath: /tmp}
                {{- with include "hydra.dbCertsVolumeMount" . }}{{ . | nindent 16 }}{{ end }}
          volumes:
            {{- include "hydra.volumes" . | nindent 12 }}
{{- end -}}
{{- end -}}
