{{/* Names and labels: the same as `kexlint webhook manifests` when the release is named "kexlint". */}}
{{- define "kexlint.labels" -}}
app.kubernetes.io/name: kexlint
app.kubernetes.io/component: webhook
app.kubernetes.io/part-of: kexlint
{{- end }}

{{- define "kexlint.selectorLabels" -}}
app.kubernetes.io/name: kexlint
app.kubernetes.io/component: webhook
{{- end }}

{{- define "kexlint.webhookName" -}}{{ .Release.Name }}-webhook{{- end }}
{{- define "kexlint.tlsSecretName" -}}{{ .Values.tls.existingSecret | default (printf "%s-webhook-tls" .Release.Name) }}{{- end }}
{{- define "kexlint.configName" -}}{{ .Release.Name }}-config{{- end }}

{{/*
The generated TLS material, made once per render and shared by the Secret and the webhook
configuration. On upgrade the Secret in the cluster is reused: a new CA would reach the apiserver
at once but the pods' mounted files only after the kubelet syncs them, failing reviews meanwhile.
*/}}
{{- define "kexlint.generatedTLS" -}}
{{- if not (hasKey .Values "_kexlintGeneratedTLS") -}}
{{- $name := include "kexlint.tlsSecretName" . -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $name -}}
{{- $tls := dict -}}
{{- if and $existing $existing.data (hasKey $existing.data "ca.crt") -}}
{{- $tls = dict "crt" (index $existing.data "tls.crt") "key" (index $existing.data "tls.key") "ca" (index $existing.data "ca.crt") -}}
{{- else -}}
{{- $service := include "kexlint.webhookName" . -}}
{{- $ns := .Release.Namespace -}}
{{- $ca := genCA "kexlint webhook CA" (int .Values.tls.days) -}}
{{- $dns := list (printf "%s.%s.svc" $service $ns) (printf "%s.%s.svc.cluster.local" $service $ns) -}}
{{- $cert := genSignedCert (printf "%s.%s.svc" $service $ns) nil $dns (int .Values.tls.days) $ca -}}
{{- $tls = dict "crt" ($cert.Cert | b64enc) "key" ($cert.Key | b64enc) "ca" ($ca.Cert | b64enc) -}}
{{- end -}}
{{- $_ := set .Values "_kexlintGeneratedTLS" $tls -}}
{{- end -}}
{{- toJson (get .Values "_kexlintGeneratedTLS") -}}
{{- end }}

{{- define "kexlint.defaultConfig" -}}
# kexlint configuration used by the admission webhook: the same format as .kexlint.yaml.
# To customise, regenerate with `kexlint webhook manifests --config FILE` or patch this ConfigMap.
kube-version: "1.37"
gateway-api-version: "1.6"  # the Gateway API release of the cluster's CRDs
webhook:
  mode: {{ .Values.mode }}        # warn: never deny, only return warnings (roll a policy out with it first)
  deny-level: error    # findings below it are returned as warnings
  failure-mode: allow  # answer when a rule fails internally: allow (with a warning) or deny
{{ end }}
