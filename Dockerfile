# One image for every service; the command picks the role (see docker-compose.yml). Built in two stages:
# the first compiles TypeScript with the dev dependencies, the second holds only the production ones and
# dist/, run with plain node (no TypeScript loader in production).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts only fetch the embedded PostgreSQL used by `npm start` and the tests; containers use a real server.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# The embedded servers of `npm start` (src/dev/) are development tools: not in the image.
RUN npm run build && rm -rf dist/src/dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
# The guides /docs links to, served at /guide/<page>.md.
COPY docs ./docs
COPY --from=build /app/dist ./dist
USER node
ENTRYPOINT ["node", "bin/prismo.js"]
CMD ["serve", "--role", "gateway"]
