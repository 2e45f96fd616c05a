# One image for every service; the command picks the role (see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Install scripts only fetch the embedded PostgreSQL used by `npm start` and the tests; containers use a real server.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
USER node
ENTRYPOINT ["node", "bin/prismo.js"]
CMD ["serve", "--role", "gateway"]
