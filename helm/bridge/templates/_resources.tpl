{{- define "bridge.serviceaccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "bridge.fullname" . }}
  labels:
    {{- include "bridge.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end -}}

{{/*
bridge.csrfSecret: the CSRF secret must be the same on every replica. It is
generated once and kept across upgrades (lookup), unless csrf.existingSecret
names one (key csrf-secret).
*/}}
{{- define "bridge.csrfSecret" -}}
{{- if not .Values.csrf.existingSecret -}}
{{- $name := include "bridge.csrfSecretName" . -}}
{{- $old := (lookup "v1" "Secret" .Release.Namespace $name).data | default dict -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ $name }}
  labels:
    {{- include "bridge.labels" . | nindent 4 }}
  annotations:
    helm.sh/resource-policy: keep
type: Opaque
data:
  csrfSecret: {{ get $old "csrfSecret" | default (randAlphaNum 48 | b64enc) | quote }}
{{- end -}}
{{- end -}}

{{- define "bridge.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "bridge.fullname" . }}
  labels:
    {{- include "bridge.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "bridge.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  template:
    metadata:
      labels:
        {{- include "bridge.labels" . | nindent 8 }}
        app.kubernetes.io/component: server
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- include "bridge.checksums" . | nindent 8 }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "bridge.fullname" . }}
      automountServiceAccountToken: false
      securityContext:
        {{- include "bridge.podSecurityContext" . | nindent 8 }}
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
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if .Values.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range .Values.topologySpread.topologyKeys }}
        - maxSkew: {{ $.Values.topologySpread.maxSkew }}
          topologyKey: {{ . }}
          whenUnsatisfiable: {{ $.Values.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "bridge.selectorLabels" $ | nindent 14 }}
              app.kubernetes.io/component: server
        {{- end }}
      {{- end }}
      # Longer than shutdownTimeout: SIGTERM drains requests in flight first.
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
      containers:
        - name: bridge
          image: {{ include "bridge.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          env:
            {{- include "bridge.env" . | nindent 12 }}
          ports:
            - {name: http, containerPort: {{ .Values.port }}, protocol: TCP}
          startupProbe:
            httpGet: {path: /health/alive, port: http, scheme: {{ include "bridge.scheme" . }}}
            periodSeconds: 1
            failureThreshold: 30
          livenessProbe:
            httpGet: {path: /health/alive, port: http, scheme: {{ include "bridge.scheme" . }}}
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            httpGet: {path: /health/ready, port: http, scheme: {{ include "bridge.scheme" . }}}
            periodSeconds: 5
            failureThreshold: 2
          securityContext:
            {{- include "bridge.containerSecurityContext" . | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          volumeMounts:
            - {name: csrf, mountPath: /etc/idstack/bridge-csrf, readOnly: true}
            {{- if .Values.tls.existingSecret }}
            - {name: tls, mountPath: /etc/idstack/bridge-tls, readOnly: true}
            {{- end }}
            - {name: tmp, mountPath: /tmp}
      volumes:
        - name: csrf
          secret:
            secretName: {{ include "bridge.csrfSecretName" . }}
            defaultMode: 0440
            items:
              - {key: {{ if .Values.csrf.existingSecret }}{{ .Values.csrf.existingSecretKey }}{{ else }}csrfSecret{{ end }}, path: csrf-secret}
        {{- with .Values.tls.existingSecret }}
        - name: tls
          secret:
            secretName: {{ . }}
            defaultMode: 0440
            items:
              - {key: tls.crt, path: tls.crt}
              - {key: tls.key, path: tls.key}
        {{- end }}
        - name: tmp
          emptyDir:
            sizeLimit: 16Mi
{{- end -}}

{{- define "bridge.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "bridge.fullname" . }}
  labels:
    {{- include "bridge.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
spec:
  type: {{ .Values.service.type }}
  selector:
    {{- include "bridge.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: server
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      {{- if .Values.tls.existingSecret }}
      appProtocol: https
      {{- end }}
{{- end -}}

{{- define "bridge.ingress" -}}
{{- if .Values.ingress.enabled -}}
{{- $host := .Values.ingress.host | default (include "bridge.regionHost" (dict "ctx" . "host" "login")) -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "bridge.fullname" . }}
  labels:
    {{- include "bridge.labels" . | nindent 4 }}
  {{- with .Values.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with .Values.ingress.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- with .Values.ingress.tlsSecret }}
  tls:
    - hosts: [{{ $host | quote }}]
      secretName: {{ . }}
  {{- end }}
  rules:
    - host: {{ $host | quote }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ include "bridge.fullname" . }}
                port:
                  name: http
{{- end -}}
{{- end -}}

{{- define "bridge.hpa" -}}
{{- if .Values.autoscaling.enabled -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "bridge.fullname" . }}
  labels:
    {{- include "bridge.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "bridge.fullname" . }}
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

{{- define "bridge.pdb" -}}
{{- if .Values.pdb.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "bridge.fullname" . }}
  labels:
    {{- include "bridge.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "bridge.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
{{- end -}}
{{- end -}}

{{- define "bridge.serviceMonitor" -}}
{{- if .Values.serviceMonitor.enabled -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "bridge.fullname" . }}
  labels:
    {{- include "bridge.labels" . | nindent 4 }}
    {{- with .Values.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "bridge.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  endpoints:
    - port: http
      path: /metrics
      scheme: {{ include "bridge.scheme" . | lower }}
      interval: {{ .Values.serviceMonitor.interval }}
      scrapeTimeout: {{ .Values.serviceMonitor.scrapeTimeout }}
{{- end -}}
{{- end -}}

{{- define "bridge.manifests" -}}
{{- range $t := list "bridge.serviceaccount" "bridge.csrfSecret" "bridge.deployment" "bridge.service" "bridge.ingress" "bridge.hpa" "bridge.pdb" "bridge.serviceMonitor" }}
{{- $out := include $t $ | trim }}
{{- if $out }}
---
{{ $out }}
{{- end }}
{{- end }}
{{- end -}}
