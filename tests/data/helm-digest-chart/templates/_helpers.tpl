{{/* An image string from an image map: Bitnami's shape, reading .imageRoot.digest. */}}
{{- define "shop.image" -}}
{{- $registry := .imageRoot.registry -}}
{{- $ref := printf "%s/%s" $registry .imageRoot.repository -}}
{{- if .imageRoot.digest -}}
{{- printf "%s@%s" $ref .imageRoot.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (.imageRoot.tag | default .chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* A helper that is passed the map itself and calls another one. */}}
{{- define "shop.plainImage" -}}
{{ .repository }}{{ with .digest }}@{{ . }}{{ else }}:{{ .tag }}{{ end }}
{{- end -}}
{{- define "shop.workerImage" -}}
{{ include "shop.plainImage" .Values.worker.image }}
{{- end -}}
