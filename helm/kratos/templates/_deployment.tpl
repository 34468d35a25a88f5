{{- define "kratos.podCommon" -}}
serviceAccountName: {{ include "kratos.fullname" . }}
automountServiceAccountToken: false
securityContext:
  {{- include "kratos.podSecurityContext" . | nindent 2 }}
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

{{/* Migrations need only the DSN: Kratos skips config validation for them. */}}
{{- define "kratos.migrateContainer" -}}
- name: migrate
  image: {{ include "kratos.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["migrate", "sql", "-e", "--yes"]
  env:
    - name: DSN
      valueFrom:
        secretKeyRef:
          name: {{ required "database.existingSecret is required: a Secret with the key kratos-dsn" .Values.database.existingSecret }}
          key: {{ .Values.database.dsnKey }}
  securityContext:
    {{- include "kratos.containerSecurityContext" . | nindent 4 }}
  resources:
    {{- toYaml .Values.migration.resources | nindent 4 }}
  volumeMounts:
    - {name: tmp, mountPath: /tmp}
    {{- with include "kratos.dbCertsVolumeMount" . }}{{ . | nindent 4 }}{{ end }}
{{- end -}}

{{- define "kratos.volumes" -}}
- name: config
  configMap:
    name: {{ include "kratos.fullname" . }}-config
    items:
      - {key: kratos.yml, path: kratos.yml}
      - {key: identity.schema.json, path: identity.schema.json}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- with include "kratos.dbCertsVolume" . }}
{{ . }}
{{- end }}
{{- end -}}

{{- define "kratos.deployment" -}}
{{- if and (not .Values.courier.smtp.connectionURI) (not .Values.courier.smtp.existingSecret) -}}
{{- fail "courier.smtp: set connectionURI or existingSecret (Kratos sends recovery and verification mail)" -}}
{{- end -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "kratos.fullname" . }}
  labels:
    {{- include "kratos.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "kratos.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  template:
    metadata:
      labels:
        {{- include "kratos.labels" . | nindent 8 }}
        app.kubernetes.io/component: server
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- include "kratos.checksums" . | nindent 8 }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "kratos.podCommon" . | nindent 6 }}
      {{- if .Values.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range .Values.topologySpread.topologyKeys }}
        - maxSkew: {{ $.Values.topologySpread.maxSkew }}
          topologyKey: {{ . }}
          whenUnsatisfiable: {{ $.Values.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "kratos.selectorLabels" $ | nindent 14 }}
              app.kubernetes.io/component: server
        {{- end }}
      {{- end }}
      terminationGracePeriodSeconds: 30
      {{- if eq .Values.migration.mode "initContainer" }}
      initContainers:
        {{- include "kratos.migrateContainer" . | nindent 8 }}
      {{- end }}
      containers:
        - name: kratos
          image: {{ include "kratos.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: ["serve", "--config", "/etc/idstack/kratos.yml", "--sqa-opt-out"]
          env:
            {{- include "kratos.env" . | nindent 12 }}
          ports:
            - {name: http-public, containerPort: 4433, protocol: TCP}
            - {name: http-admin, containerPort: 4434, protocol: TCP}
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
            {{- include "kratos.containerSecurityContext" . | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          volumeMounts:
            - {name: config, mountPath: /etc/idstack/kratos.yml, subPath: kratos.yml, readOnly: true}
            - {name: config, mountPath: /etc/idstack/identity, readOnly: true}
            - {name: tmp, mountPath: /tmp}
            {{- with include "kratos.dbCertsVolumeMount" . }}{{ . | nindent 12 }}{{ end }}
      volumes:
        {{- include "kratos.volumes" . | nindent 8 }}
{{- end -}}

{{/*
kratos.courier: the courier must be a singleton (ory/k8s#631): two would send
every mail twice. One replica, strategy Recreate (the old pod is gone before
the new one starts), never scaled by the HPA, and only in the primary region
(region.primary), since every region shares one database and one queue.
*/}}
{{- define "kratos.courier" -}}
{{- if include "kratos.courierEnabled" . -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "kratos.fullname" . }}-courier
  labels:
    {{- include "kratos.labels" . | nindent 4 }}
    app.kubernetes.io/component: courier
spec:
  replicas: 1
  revisionHistoryLimit: 5
  strategy:
    type: Recreate
  selector:
    matchLabels:
      {{- include "kratos.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: courier
  template:
    metadata:
      labels:
        {{- include "kratos.labels" . | nindent 8 }}
        app.kubernetes.io/component: courier
      annotations:
        {{- include "kratos.checksums" . | nindent 8 }}
    spec:
      {{- include "kratos.podCommon" . | nindent 6 }}
      containers:
        - name: courier
          image: {{ include "kratos.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: ["courier", "watch", "--config", "/etc/idstack/kratos.yml"]
          env:
            {{- include "kratos.env" . | nindent 12 }}
          securityContext:
            {{- include "kratos.containerSecurityContext" . | nindent 12 }}
          resources:
            {{- toYaml .Values.courier.resources | nindent 12 }}
          volumeMounts:
            - {name: config, mountPath: /etc/idstack/kratos.yml, subPath: kratos.yml, readOnly: true}
            - {name: config, mountPath: /etc/idstack/identity, readOnly: true}
            - {name: tmp, mountPath: /tmp}
            {{- with include "kratos.dbCertsVolumeMount" . }}{{ . | nindent 12 }}{{ end }}
      volumes:
        {{- include "kratos.volumes" . | nindent 8 }}
{{- end -}}
{{- end -}}
