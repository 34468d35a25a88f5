{{/*
idstack-region.render renders one component chart with the region's values.

Helm gives a subchart only its own values and "global"; it cannot see this
chart's region, database or ingress. So each component chart keeps its
templates in named templates ("<chart>.manifests") and renders nothing by
itself when global.idstackUmbrella is true. This chart calls those named
templates with the component's own (coalesced, schema-checked) values, into
which it writes the region's settings: the region flows into every
component's URLs, cookie domain, labels and node placement.
*/}}
{{- define "idstack-region.render" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $sub := index $root.Subcharts $name -}}
{{- $v := deepCopy (index $root.Values $name) -}}
{{- $_ := set $v "region" (omit (deepCopy $root.Values.region) "kubernetesRegion") -}}
{{- if hasKey $v "database" -}}
{{- $_ := set $v "database" (mergeOverwrite $v.database (deepCopy $root.Values.database)) -}}
{{- end -}}
{{- if hasKey $v "ingress" -}}
{{- $ing := $root.Values.ingress -}}
{{- $_ := set $v.ingress "enabled" (and $ing.enabled $v.ingress.enabled) -}}
{{- $_ := set $v.ingress "className" ($v.ingress.className | default $ing.className) -}}
{{- $_ := set $v.ingress "tlsSecret" ($v.ingress.tlsSecret | default $ing.tlsSecret) -}}
{{- $_ := set $v.ingress "annotations" (merge (deepCopy ($v.ingress.annotations | default dict)) (deepCopy ($ing.annotations | default dict))) -}}
{{- end -}}
{{- with $root.Values.region.kubernetesRegion -}}
{{- $_ := set $v "nodeSelector" (merge (dict "topology.kubernetes.io/region" .) ($v.nodeSelector | default dict)) -}}
{{- end -}}
{{- if and (eq $name "keyrotation") $root.Values.hydra.enabled (not $v.hydraConfigMap) -}}
{{- $_ := set $v "hydraConfigMap" (printf "%s-config" ($root.Values.hydra.fullnameOverride | default (printf "%s-%s" $root.Release.Name ($root.Values.hydra.nameOverride | default "hydra")))) -}}
{{- end -}}
{{- include (printf "%s.manifests" $name) (dict "Values" $v "Release" $root.Release "Chart" $sub.Chart "Files" $sub.Files "Capabilities" $root.Capabilities "Template" $root.Template) -}}
{{- end -}}

{{/*
idstack-region.sharedSecret refuses generated Kratos or Hydra secrets in a
secondary region. Every region shares one database, so every region must use
the secrets the first region used: a secondary region that generated its own
would log users out across regions (Kratos) and could not decrypt the JWKs
and client secrets stored by the others (Hydra's secretsSystem, ory/k8s#339).
The primary region may generate them; the others name a copy.
*/}}
{{- define "idstack-region.sharedSecret" -}}
{{- $root := .root -}}
{{- $v := index $root.Values .name -}}
{{- if and (not $root.Values.region.primary) (not $v.secrets.existingSecret) -}}
{{- fail (printf "%s.secrets.existingSecret is required in a secondary region (region.primary is false): all regions share one database, so every region must use the same Secret (keys %s); secrets generated here would differ from the other regions'" .name .keys) -}}
{{- end -}}
{{- end -}}
