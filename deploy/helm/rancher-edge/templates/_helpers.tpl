{{- define "edge.name" -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}

{{- define "edge.labels" -}}
app.kubernetes.io/name: rancher-edge
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "edge.selector" -}}
app.kubernetes.io/name: rancher-edge
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
