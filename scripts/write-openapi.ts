// Writes the gateway's OpenAPI document (as GET /openapi.json answers it with the default settings) to a
// file, for the OpenAPI linter (npm run lint:openapi): building it touches no database and no network.
// Run: npx tsx scripts/write-openapi.ts [file] (default .ci-output/openapi.json).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { gatewayDocument } from './generate-client-types.js';

const file = resolve(process.argv[2] ?? '.ci-output/openapi.json');
await mkdir(dirname(file), { recursive: true });
await writeFile(file, `${JSON.stringify(await gatewayDocument(), null, 2)}\n`);
console.log(`wrote ${file}`);
