#!/usr/bin/env node
// The prismo command runs the compiled JavaScript in dist/ (`npm run build`; `npm start` builds first), with
// plain node: no TypeScript loader in production. During development, `npm run dev` runs the sources.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('prismo: not built yet: run `npm run build` first (`npm start` builds before it starts)');
  process.exit(1);
}
await import(main.href);
