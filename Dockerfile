# syntax=docker/dockerfile:1
# Build: docker build -t agentflow-gateway . (or buildah bud --format docker, because the OCI
# format drops the HEALTHCHECK). docs/operations.md#container-image has the details.

# Production dependencies, with the re2 native module compiled for this Node.js. The stage
# depends only on package.json and the lockfile, so source changes reuse its cached layers.
FROM node:24-bookworm-slim AS prod-deps
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The image has the Node.js headers under /usr/local/include/node, so node-gyp downloads none.
ENV npm_config_nodedir=/usr/local
# Unset by default. Behind a TLS-inspecting proxy, mount its CA bundle into the build and name it
# here (--build-arg NODE_EXTRA_CA_CERTS=FILE), so that npm trusts the registry's certificate.
ARG NODE_EXTRA_CA_CERTS
COPY package.json package-lock.json ./
# re2 needs only build/Release/re2.node at run time. Without debug information that file
# shrinks from about 23 MB to under 2 MB.
RUN npm ci --omit=dev --no-audit --no-fund \
    && rm -rf node_modules/re2/build/Release/obj.target node_modules/re2/vendor /root/.npm \
    && strip --strip-debug node_modules/re2/build/Release/re2.node

# TypeScript compile. It needs no native module, so install scripts are skipped and no compiler
# is installed. Builders that run stages in parallel run it beside the one above.
FROM node:24-bookworm-slim AS build
WORKDIR /app
ARG NODE_EXTRA_CA_CERTS
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund && rm -rf /root/.npm
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsconfig.build.json compiles the sample backend too; it is not copied into the image.
COPY examples ./examples
RUN npm run build

# Runtime: no compiler and no sources. Files belong to root, so the gateway cannot change them.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY config ./config
# policies/rulesets holds the shipped rule sets, which the gateway loads from here whatever
# policy folder it is given.
COPY policies ./policies
# The image's `node` user, by number: Kubernetes can check runAsNonRoot only against a numeric
# user. The gateway writes no files, so the root filesystem can be mounted read-only.
USER 1000:1000
EXPOSE 8080 9090
STOPSIGNAL SIGTERM
# /healthz on the admin listener, which binds 127.0.0.1:9090 unless configured otherwise. The
# port follows AGENTFLOW_GATEWAY_ADMIN_PORT. A port set only in gateway.yaml, an admin listener
# with TLS, or one bound to a single address other than loopback needs its own health check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.AGENTFLOW_GATEWAY_ADMIN_PORT || 9090}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, so node is PID 1 and receives SIGTERM itself: the gateway drains requests for
# shutdown.grace_period and exits with status 0. The bundled config/gateway.yaml trusts the demo
# issuer of npm start, which serve rejects: mount your own configuration and policies outside
# /app/policies, and point --config or AGENTFLOW_GATEWAY_CONFIG at the configuration.
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve", "--config", "config/gateway.yaml"]
