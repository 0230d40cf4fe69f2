version: '2'
services:
  edge:
    image: ${image}
    command: serve
    ports:
      - ${http_port}:${http_port}/tcp
    {{- if eq .Values.https_enable "true" }}
      - ${https_port}:${https_port}/tcp
    {{- end }}
      - ${admin_port}:${admin_port}/tcp
    labels:
      io.rancher.scheduler.global: 'true'
      io.rancher.scheduler.affinity:host_label: ${host_label}
      io.rancher.scheduler.affinity:container_label_ne: io.rancher.stack_service.name=$${stack_name}/$${service_name}
      io.rancher.container.hostname_override: container_name
    {{- if eq .Values.rancher_integration "api" }}
      # Rancher injects CATTLE_URL, CATTLE_ACCESS_KEY and CATTLE_SECRET_KEY.
      io.rancher.container.agent.role: environment
      io.rancher.container.create_agent: 'true'
    {{- end }}
    environment:
      TRAEFIK_HTTP_PORT: ${http_port}
      TRAEFIK_HTTPS_PORT: ${https_port}
      TRAEFIK_HTTPS_ENABLE: ${https_enable}
      TRAEFIK_HTTPS_MIN_TLS: ${https_min_tls}
      TRAEFIK_ADMIN_PORT: ${admin_port}
      TRAEFIK_RANCHER_MODE: ${rancher_integration}
    {{- if eq .Values.rancher_integration "metadata" }}
      TRAEFIK_RANCHER_PREFIX: "2016-07-29"
    {{- end }}
      TRAEFIK_RANCHER_HEALTHCHECK: ${rancher_healthcheck}
      TRAEFIK_RANCHER_EXPOSED: ${rancher_exposed}
      TRAEFIK_RANCHER_DOMAIN: ${rancher_domain}
      TRAEFIK_RANCHER_CONSTRAINTS: ${constraints}
      TRAEFIK_TRUSTED_IPS: ${trusted_ips}
    {{- if eq .Values.cert_source "secrets" }}
      TRAEFIK_SSL_CERT: ${ssl_cert_secret}
      TRAEFIK_SSL_PRIVATE_KEY: ${ssl_key_secret}
    {{- else if eq .Values.cert_source "pem" }}
      TRAEFIK_SSL_CERT: ${ssl_crt}
      TRAEFIK_SSL_PRIVATE_KEY: ${ssl_key}
    {{- end }}
      TRAEFIK_ACME_ENABLE: ${acme_enable}
    {{- if eq .Values.acme_enable "true" }}
      TRAEFIK_ACME_EMAIL: ${acme_email}
      TRAEFIK_ACME_CHALLENGE: ${acme_challenge}
      TRAEFIK_ACME_CASERVER: ${acme_caserver}
      TRAEFIK_ACME_KEYTYPE: ${acme_keytype}
      TRAEFIK_ACME_STORAGE: /data/acme
    {{- end }}
      TRAEFIK_ADMIN_USERS: ${admin_users}
    {{- if ne .Values.timeout_read "0" }}
      TRAEFIK_TIMEOUT_READ: ${timeout_read}s
    {{- end }}
    {{- if ne .Values.timeout_write "0" }}
      TRAEFIK_TIMEOUT_WRITE: ${timeout_write}s
    {{- end }}
    {{- if ne .Values.timeout_idle "0" }}
      TRAEFIK_TIMEOUT_IDLE: ${timeout_idle}s
    {{- end }}
    {{- if ne .Values.timeout_dial "0" }}
      TRAEFIK_TIMEOUT_DIAL: ${timeout_dial}s
    {{- end }}
    {{- if ne .Values.timeout_header "0" }}
      TRAEFIK_TIMEOUT_HEADER: ${timeout_header}s
    {{- end }}
      TRAEFIK_METRICS_ENABLE: ${metrics_enable}
    {{- if eq .Values.acme_enable "true" }}
    volumes:
      - {{ .Values.acme_vol_name }}:/data
      {{- if ne .Values.acme_import_volume "" }}
      # Traefik's acme.json, imported once (TRAEFIK_ACME_IMPORT's default path).
      - {{ .Values.acme_import_volume }}:/opt/traefik/acme:ro
      {{- end }}
    {{- end }}
    {{- if eq .Values.cert_source "secrets" }}
    secrets:
      - source: {{ .Values.ssl_cert_secret }}
        target: {{ .Values.ssl_cert_secret }}
        uid: '10001'
        gid: '10001'
        mode: '0400'
      - source: {{ .Values.ssl_key_secret }}
        target: {{ .Values.ssl_key_secret }}
        uid: '10001'
        gid: '10001'
        mode: '0400'
    {{- end }}
{{- if eq .Values.acme_enable "true" }}
volumes:
  {{ .Values.acme_vol_name }}:
    driver: ${acme_vol_driver}
  {{- if ne .Values.acme_import_volume "" }}
  {{ .Values.acme_import_volume }}:
    external: 'true'
  {{- end }}
{{- end }}
{{- if eq .Values.cert_source "secrets" }}
secrets:
  {{ .Values.ssl_cert_secret }}:
    external: 'true'
  {{ .Values.ssl_key_secret }}:
    external: 'true'
{{- end }}
