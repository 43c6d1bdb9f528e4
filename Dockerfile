# patchwave worker / sim / ingress image. Runs TypeScript through tsx, exactly as `bin/patchwave` does.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY data ./data
ENV NODE_ENV=production
ENTRYPOINT ["/app/node_modules/.bin/tsx", "/app/src/cli/main.ts"]
