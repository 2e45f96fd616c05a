// npm run build: compiles src/ with tsc into dist/ (incremental, so a second build is quick) and copies the
// files tsc does not emit that the compiled code reads at run time (the SQL migrations, the board's page).
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('../', import.meta.url);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', new URL('tsconfig.build.json', root).pathname], { stdio: 'inherit' });
cpSync(new URL('src/db/migrations/', root), new URL('dist/src/db/migrations/', root), { recursive: true });
cpSync(new URL('src/gateway/board/assets/', root), new URL('dist/src/gateway/board/assets/', root), { recursive: true });
