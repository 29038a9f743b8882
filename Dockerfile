# syntax=docker/dockerfile:1
#
# One image for both programs:
#   gateway (default):  docker run -p 4000:4000 -e SPP_URL=... -e SPP_USERNAME=... -e SPP_PASSWORD=... <image>
#   SPP simulator:      docker run -p 8090:8090 <image> node dist/simulator/cli.js
# Without SPP_URL the gateway starts its embedded simulator (demo mode).
# docker-compose.yml runs the two side by side.

# Node 24 is the Active LTS (Node 20 reached its end of life in April 2026); the code itself
# keeps running on Node 20 (package.json "engines", CI), so older hosts can still run `npm start`.

# ---- build: compile TypeScript (needs devDependencies: typescript) ----------------
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY schema ./schema
# src/__generated__ (graphql-codegen output) is committed, so no codegen here.
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies only (no tsx, no TypeScript), compiled JS, the SDL ----
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
# V8's heap sized for a gateway, not for the host (issue 22, docs/performance.md#memory): a small
# young generation and an old-space limit keep RSS at about 100 MiB idle and 150 MiB under
# 1000-row pages on 10 connections (defaults: about 125 and 280-340 MiB). Override NODE_OPTIONS
# to change them; Kubernetes sets the same value in deploy/kubernetes/base/deployment.yaml.
ENV NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=320"
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# src/graphql/apollo.ts reads ../../schema/schema.graphql relative to itself: /app/dist/graphql -> /app/schema.
COPY schema ./schema
# Files stay root-owned (read-only for the app); the process runs unprivileged.
USER node
EXPOSE 4000
# Readiness, not just liveness: /readyz is 503 while SPP is unreachable, its service account is
# rejected, or the gateway drains on SIGTERM. The process receives SIGTERM itself (no npm, no shell).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
