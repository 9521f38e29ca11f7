# syntax=docker/dockerfile:1
# One image for every Continuum process: `docker run <image> api|streams|connect|ml|…`.
# There is no build step: Node 24 runs the TypeScript sources directly (type stripping).

# --- deps: production dependencies only, from the lockfile -------------------------------
FROM node:24-bookworm-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Our postinstall patches kafkajs and @platformatic/kafka (patches/apply.mjs; README "Patched dependencies").
COPY patches ./patches
# The `prepare` step (ui/build.mjs) skips the UI here: Vite is a dev dependency (stage `ui`).
COPY ui/build.mjs ./ui/build.mjs
# Install scripts stay on: the `node` package needs its own to fetch the platform's binary.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# --- ui: the dashboard, built by Vite (`prepare` runs ui/build.mjs); only ui/dist is kept ----
FROM node:24-bookworm-slim AS ui
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# What the UI imports besides its own sources: the simulator's cities, the state's types.
COPY ui ./ui
COPY seeder ./seeder
COPY schemas ./schemas
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund && test -f ui/dist/index.html

# --- runtime ---------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY core ./core
COPY cli ./cli
COPY compose ./compose
COPY streams ./streams
COPY connectors ./connectors
COPY api ./api
COPY ml ./ml
COPY schemas ./schemas
COPY seeder ./seeder
COPY replay ./replay
COPY --from=ui /app/ui/dist ./ui/dist
# CONTINUUM_STATE_DIR defaults to <repo>/.continuum: writable by the unprivileged user.
RUN mkdir -p /app/.continuum && chown node:node /app/.continuum
USER node
ENTRYPOINT ["node", "bin/continuum.js"]
CMD ["--help"]
