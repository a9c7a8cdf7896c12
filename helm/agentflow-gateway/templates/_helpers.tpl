{{/* Names, labels and the parts shared by the Deployment and the sidecar snippet in NOTES. */}}

{{- define "agentflow-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "agentflow-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "agentflow-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agentflow-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "agentflow-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "agentflow-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The pods that carry the gateway: its own in standalone mode, the backend's as a sidecar. */}}
{{- define "agentflow-gateway.podSelector" -}}
{{- if eq .Values.mode "sidecar" }}
{{- if not .Values.sidecar.podSelector }}
{{- fail "sidecar.podSelector is required in sidecar mode: the labels of the backend's pods" }}
{{- end }}
{{- toYaml .Values.sidecar.podSelector }}
{{- else }}
{{- include "agentflow-gateway.selectorLabels" . }}
{{- end }}
{{- end }}

{{- define "agentflow-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "agentflow-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "agentflow-gateway.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "agentflow-gateway.policiesConfigMap" -}}
{{- default (printf "%s-policies" (include "agentflow-gateway.fullname" .)) .Values.policies.existingConfigMap }}
{{- end }}

{{/* Where the chart mounts its files; gateway.yaml refers to them by these absolute paths. */}}
{{- define "agentflow-gateway.mountRoot" -}}/etc/agentflow-gateway{{- end }}

{{/*
The admin listener's address in gateway.yaml. With podIP, AGENTFLOW_GATEWAY_ADMIN_HOST replaces
it by the pod's IP at start.
*/}}
{{- define "agentflow-gateway.adminHost" -}}
{{- if eq .Values.adminListener.bind "loopback" }}127.0.0.1{{ else }}0.0.0.0{{ end }}
{{- end }}

{{/* gateway.yaml: config, plus the keys that follow from the other values. */}}
{{- define "agentflow-gateway.gatewayConfig" -}}
{{- $root := include "agentflow-gateway.mountRoot" . }}
{{- $config := deepCopy .Values.config }}
{{- $upstream := deepCopy (default (dict) $config.upstream) }}
{{- if not $upstream.url }}
{{- if eq .Values.mode "sidecar" }}
{{- $_ := set $upstream "url" (printf "http://127.0.0.1:%d" (int .Values.sidecar.backendPort)) }}
{{- else }}
{{- fail "config.upstream.url is required in standalone mode: the backend's URL, such as http://rag-backend.default.svc:8000" }}
{{- end }}
{{- end }}
{{- $_ := set $config "upstream" $upstream }}
{{- $public := dict "host" "0.0.0.0" "port" (int .Values.ports.http) }}
{{- if .Values.publicTls }}
{{- $_ := set $public "tls" .Values.publicTls }}
{{- end }}
{{- $admin := dict "host" (include "agentflow-gateway.adminHost" .) "port" (int .Values.ports.admin) }}
{{- $_ := set $config "listeners" (dict "public" $public "admin" $admin) }}
{{- $_ := set $config "policies" (dict "dir" (printf "%s/policies" $root)) }}
{{- $_ := set $config "shutdown" (dict "grace_period" (printf "%ds" (int .Values.shutdown.gracePeriodSeconds))) }}
{{- if .Values.adminToken.existingSecret }}
{{- $_ := set $config "admin" (dict "token_file" (printf "%s/secrets/admin/token" $root)) }}
{{- end }}
{{- if .Values.crypto.enabled }}
{{- $crypto := deepCopy .Values.crypto.settings }}
{{- $_ := set $crypto "enabled" true }}
{{- $keys := list }}
{{- range .Values.crypto.keys }}
{{- $keys = append $keys (dict "version" (int .version) "file" (printf "%s/secrets/crypto/%s" $root .key)) }}
{{- end }}
{{- $_ := set $crypto "keys" $keys }}
{{- $_ := set $crypto "min_version" (int .Values.crypto.minVersion) }}
{{- if .Values.crypto.encryptVersion }}
{{- $rotation := deepCopy (default (dict) $crypto.rotation) }}
{{- $_ := set $rotation "encrypt_version" (int .Values.crypto.encryptVersion) }}
{{- $_ := set $crypto "rotation" $rotation }}
{{- end }}
{{- $callers := list }}
{{- range $index, $caller := .Values.crypto.callers }}
{{- $callers = append $callers (dict "name" $caller.name "token_env" (printf "AGENTFLOW_GATEWAY_CRYPTO_CALLER_%d_TOKEN" $index) "context_prefixes" $caller.contextPrefixes) }}
{{- end }}
{{- $_ := set $crypto "callers" $callers }}
{{- if .Values.crypto.socket.enabled }}
{{- $_ := set $crypto "socket" (dict "path" "/run/agentflow-gateway/crypto.sock" "mode" .Values.crypto.socket.mode) }}
{{- end }}
{{- $_ := set $config "crypto" $crypto }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* A probe handler for an admin path: HTTP on the admin port, or node inside the container. */}}
{{- define "agentflow-gateway.probeHandler" -}}
{{- if eq .root.Values.adminListener.bind "loopback" }}
exec:
  command:
    - node
    - -e
    - {{ printf "fetch('http://127.0.0.1:%d%s').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" (int .root.Values.ports.admin) .path | quote }}
{{- else }}
httpGet:
  path: {{ .path }}
  port: gateway-admin
{{- end }}
{{- end }}

{{/* The gateway container, in the Deployment and in the sidecar snippet. */}}
{{- define "agentflow-gateway.container" -}}
{{- $root := include "agentflow-gateway.mountRoot" . -}}
name: gateway
image: {{ include "agentflow-gateway.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
args: [serve, --config, {{ $root }}/config/gateway.yaml]
ports:
  - name: gateway
    containerPort: {{ .Values.ports.http }}
    protocol: TCP
  - name: gateway-admin
    containerPort: {{ .Values.ports.admin }}
    protocol: TCP
{{- $podIP := eq .Values.adminListener.bind "podIP" }}
{{- if or $podIP .Values.crypto.enabled .Values.env }}
env:
  {{- if $podIP }}
  - name: AGENTFLOW_GATEWAY_ADMIN_HOST
    valueFrom:
      fieldRef:
        fieldPath: status.podIP
  {{- end }}
  {{- if .Values.crypto.enabled }}
  {{- range $index, $caller := .Values.crypto.callers }}
  - name: {{ printf "AGENTFLOW_GATEWAY_CRYPTO_CALLER_%d_TOKEN" $index }}
    valueFrom:
      secretKeyRef:
        name: {{ $caller.existingSecret }}
        key: {{ $caller.key }}
  {{- end }}
  {{- end }}
  {{- with .Values.env }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
startupProbe:
  {{- include "agentflow-gateway.probeHandler" (dict "root" . "path" "/healthz") | trim | nindent 2 }}
  {{- toYaml .Values.probes.startup | nindent 2 }}
livenessProbe:
  {{- include "agentflow-gateway.probeHandler" (dict "root" . "path" "/healthz") | trim | nindent 2 }}
  {{- toYaml .Values.probes.liveness | nindent 2 }}
readinessProbe:
  {{- include "agentflow-gateway.probeHandler" (dict "root" . "path" "/readyz") | trim | nindent 2 }}
  {{- toYaml .Values.probes.readiness | nindent 2 }}
{{- if gt (int .Values.shutdown.preStopSleepSeconds) 0 }}
lifecycle:
  preStop:
    exec:
      command: [sleep, {{ .Values.shutdown.preStopSleepSeconds | int | toString | quote }}]
{{- end }}
{{- with .Values.resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: gateway-config
    mountPath: {{ $root }}/config
    readOnly: true
  - name: gateway-policies
    mountPath: {{ $root }}/policies
    readOnly: true
  - name: gateway-tmp
    mountPath: /tmp
  {{- if and .Values.crypto.enabled .Values.crypto.socket.enabled }}
  - name: gateway-run
    mountPath: /run/agentflow-gateway
  {{- end }}
  {{- if .Values.adminToken.existingSecret }}
  - name: gateway-admin-token
    mountPath: {{ $root }}/secrets/admin
    readOnly: true
  {{- end }}
  {{- if .Values.crypto.enabled }}
  - name: gateway-crypto-keys
    mountPath: {{ $root }}/secrets/crypto
    readOnly: true
  {{- end }}
  {{- with .Values.extraVolumeMounts }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* The volumes of the gateway container. */}}
{{- define "agentflow-gateway.volumes" -}}
- name: gateway-config
  configMap:
    name: {{ include "agentflow-gateway.fullname" . }}-config
# The policy files and, from policies.ruleSets, the rule sets under rulesets/.
- name: gateway-policies
  projected:
    sources:
      - configMap:
          name: {{ include "agentflow-gateway.policiesConfigMap" . }}
      {{- if .Values.policies.ruleSets }}
      - configMap:
          name: {{ include "agentflow-gateway.fullname" . }}-rulesets
          items:
            {{- range $file, $_ := .Values.policies.ruleSets }}
            - key: {{ $file }}
              path: rulesets/{{ $file }}
            {{- end }}
      {{- end }}
- name: gateway-tmp
  emptyDir:
    medium: Memory
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- if and .Values.crypto.enabled .Values.crypto.socket.enabled }}
# The encryption API's Unix socket, shared with the backend's container in sidecar mode.
- name: gateway-run
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- end }}
{{- if .Values.adminToken.existingSecret }}
- name: gateway-admin-token
  secret:
    secretName: {{ .Values.adminToken.existingSecret }}
    items:
      - key: {{ .Values.adminToken.key }}
        path: token
{{- end }}
{{- if .Values.crypto.enabled }}
{{- if not .Values.crypto.existingSecret }}
{{- fail "crypto.existingSecret is required when crypto.enabled is true: the Secret with the master keys" }}
{{- end }}
- name: gateway-crypto-keys
  secret:
    secretName: {{ .Values.crypto.existingSecret }}
    items:
      {{- range .Values.crypto.keys }}
      - key: {{ .key }}
        path: {{ .key }}
      {{- end }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Seconds the kubelet waits after the preStop pause started: pause, drain and a margin. */}}
{{- define "agentflow-gateway.terminationGracePeriod" -}}
{{- add (int .Values.shutdown.preStopSleepSeconds) (int .Values.shutdown.gracePeriodSeconds) 10 }}
{{- end }}
