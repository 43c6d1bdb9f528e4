# patchwave worker / sim / ingress image. Runs TypeScript with `node --import tsx`, exactly as `bin/patchwave`
# does: node itself is the container's main process and gets the signals (no tsx wrapper in between).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY data ./data
ENV NODE_ENV=production
ENTRYPOINT ["node", "--import", "/app/node_modules/tsx/dist/loader.mjs", "/app/src/cli/main.ts"]
