# syntax=docker/dockerfile:1
# Build stage: compiles TypeScript and the re2 native module.
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY examples ./examples
RUN npm run build && npm ci --omit=dev

# Runtime stage: production dependencies and compiled files only, as a non-root user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY policies ./policies
USER node
EXPOSE 8080 9090
# The admin listener is on loopback by default, which is where the health check runs.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9090/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The bundled config/gateway.yaml trusts the demo issuer of npm start, which serve refuses:
# mount your own configuration and policies over /app/config and /app/policies.
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve", "--config", "config/gateway.yaml"]
