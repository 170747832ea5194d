# invoice-gate: one image for both roles; the command picks the role.
#   server (default): node dist/src/bin/server.js   (Stripe webhooks, Slack interactivity, health, metrics)
#   worker:           node dist/src/bin/worker.js   (the Temporal worker: workflows and activities)
# The image runs on configured services only (TEMPORAL_ADDRESS, DATABASE_URL, Stripe and Slack
# credentials): the emulators and PGlite are development dependencies and are not installed.
# See README.md, "Running against the real services".

# Build stage: all dependencies, tsc and the prebuilt workflow bundle (npm run build).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY emulators ./emulators
RUN npm run build

# Final stage: production dependencies and dist/ only, as the unprivileged node user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# Liveness of the server role; a worker container has no HTTP port (compose.yaml disables it there).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and handles SIGTERM itself: the server stops accepting, answers the webhooks in
# flight, then the worker shuts down gracefully (in-flight activities get 20 s), then exit 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/bin/server.js"]
