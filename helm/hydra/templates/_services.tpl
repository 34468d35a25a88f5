{{- define "hydra.serviceaccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "hydra.fullname" . }}
  labels:
    {{- include "hydra.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end -}}

{{- define "hydra.services" -}}
{{- range $kind, $port := dict "public" 4444 "admin" 4445 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "hydra.fullname" $ }}-{{ $kind }}
  labels:
    {{- include "hydra.labels" $ | nindent 4 }}
    app.kubernetes.io/component: server
    idstack.dev/port: {{ $kind }}
spec:
  type: {{ $.Values.service.type }}
  selector:
    {{- include "hydra.selectorLabels" $ | nindent 4 }}
    app.kubernetes.io/component: server
  ports:
    - name: http-{{ $kind }}
      port: {{ $port }}
      targetPort: http-{{ $kind }}
      protocol: TCP
{{- end }}
{{- end -}}

{{/* Only the public API is exposed; the admin API stays inside the cluster. */}}
{{- define "hydra.ingress" -}}
{{- if .Values.ingress.enabled -}}
{{- $host := .Values.ingress.host | default (include "hydra.regionHost" (dict "ctx" . "host" "hydra")) -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "hydra.fullname" . }}-public
  labels:
    {{- include "hydra.labels" . | nindent 4 }}
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
                name: {{ include "hydra.fullname" . }}-public
                port:
                  name: http-public
{{- end -}}
{{- end -}}
