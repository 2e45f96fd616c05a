# One image for every service; the command picks the role (see docker-compose.yml). Built with BuildKit
# (`DOCKER_BUILDKIT=1 docker build`, or buildx) in three stages: the first compiles TypeScript with the dev
# dependencies, the second installs the production ones, the last holds only those, dist/ and the guides,
# run with plain node (no TypeScript loader in production) as the unprivileged `node` user.
#
# Behind a TLS-intercepting proxy, npm needs the CA bundle the host trusts: pass it as a build secret, which
# RUN sees at /run/secrets/ca and no layer keeps (docs/operations.md, "The image"):
#   DOCKER_BUILDKIT=1 docker build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t prismo .
# NODE_IMAGE: a Node 24 base with npm and a `node` user; where no registry can be reached,
# scripts/base-image.sh makes one from Debian's packages and the npm registry's Node.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts only fetch the embedded PostgreSQL used by `npm start` and the tests; containers use a real server.
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
# The embedded servers of `npm start` (src/dev/) are development tools, and the build info and source maps
# serve only rebuilds and debuggers: none of them in the image.
RUN npm run build && rm -rf dist/src/dev && find dist \( -name '*.map' -o -name '*.tsbuildinfo' \) -delete

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /app
# HOST: the API listens on the container's interfaces, so a container run outside compose is reachable on a
# published port; ingestion and the ops port stay on loopback unless INGEST_HOST and OPS_HOST say otherwise.
ENV NODE_ENV=production HOST=0.0.0.0
COPY package.json ./
COPY bin ./bin
# The guides /docs links to and the pages they link to (src/gateway/guide.ts, GUIDE_FILES), served at /guide/.
COPY docs/api.md docs/model.md docs/processor.md docs/operations.md docs/runbook.md docs/configuration.md docs/benchmarks.md \
     docs/scaling.md docs/testing.md docs/board.jpg ./docs/
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Nothing under /app is written: the files stay root's and the process runs as `node` (docs/operations.md).
USER node
# The API (gateway: PORT), ingestion (INGEST_PORT) and the roles' ops ports (OPS_PORT, else processor 9464, deliverer
# 9465, gateway 9466, ingest 9467: /healthz, /readyz, /metrics).
EXPOSE 3000 3001 9464 9465 9466 9467
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["node", "bin/prismo.js"]
CMD ["serve", "--role", "gateway"]
