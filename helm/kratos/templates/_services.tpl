{{- define "kratos.serviceaccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "kratos.fullname" . }}
  labels:
    {{- include "kratos.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end -}}

{{- define "kratos.services" -}}
{{- range $kind, $port := dict "public" 4433 "admin" 4434 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "kratos.fullname" $ }}-{{ $kind }}
  labels:
    {{- include "kratos.labels" $ | nindent 4 }}
    app.kubernetes.io/component: server
    idstack.dev/port: {{ $kind }}
spec:
  type: {{ $.Values.service.type }}
  selector:
    {{- include "kratos.selectorLabels" $ | nindent 4 }}
    app.kubernetes.io/component: server
  ports:
    - name: http-{{ $kind }}
      port: {{ $port }}
      targetPort: http-{{ $kind }}
      protocol: TCP
{{- end }}
{{- end -}}

{{/* Only the public API is exposed; the admin API stays inside the cluster. */}}
{{- define "kratos.ingress" -}}
{{- if .Values.ingress.enabled -}}
{{- $host := .Values.ingress.host | default (include "kratos.regionHost" (dict "ctx" . "host" "kratos")) -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "kratos.fullname" . }}-public
  labels:
    {{- include "kratos.labels" . | nindent 4 }}
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
                name: {{ include "kratos.fullname" . }}-public
                port:
                  name: http-public
{{- end -}}
{{- end -}}
