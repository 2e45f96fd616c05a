// Regenerates src/mapping/transform/vendor/*.json: the vendors' own published example objects that our
// mappers read, extracted from their OpenAPI repositories at pinned commits (not copied whole: the files
// are megabytes). Usage, with git clones of stripe/openapi and plaid/plaid-openapi:
//   npx tsx scripts/vendor-vectors.ts /path/to/stripe-openapi /path/to/plaid-openapi
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parse } from 'yaml';

const STRIPE = { commit: 'f6c2a48fbac2819d1feba8143d942ffc65e1c0d2', file: 'openapi/fixtures3.json' };
const PLAID = { commit: '26f1a0588c12e765e99c815300d94eae0a3c7dc1', file: '2020-09-14.yml' };
const OUT = new URL('../src/mapping/transform/vendor/', import.meta.url);

const [stripeRepo, plaidRepo] = process.argv.slice(2);
if (!stripeRepo || !plaidRepo) throw new Error('usage: vendor-vectors.ts <stripe/openapi clone> <plaid/plaid-openapi clone>');
const show = (repo: string, { commit, file }: { commit: string; file: string }) =>
  execFileSync('git', ['-C', repo, 'show', `${commit}:${file}`], { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });

const stripe = JSON.parse(show(stripeRepo, STRIPE)) as { resources: Record<string, unknown> };
writeFileSync(
  new URL('stripe.json', OUT),
  `${JSON.stringify({ from: `stripe/openapi@${STRIPE.commit}:${STRIPE.file}`, charge: stripe.resources.charge, balance_transaction: stripe.resources.balance_transaction }, null, 2)}\n`,
);

// Every example response of the transaction endpoints: /transactions/get and /transactions/sync.
type Example = { value: Record<string, unknown> };
const plaid = parse(show(plaidRepo, PLAID), { maxAliasCount: -1 }) as {
  paths: Record<string, { post: { responses: { 200: { content: { 'application/json': { examples: Record<string, Example> } } } } } }>;
};
const examples = (path: string) =>
  Object.values(plaid.paths[path]!.post.responses[200].content['application/json'].examples).map((e) => e.value);
const get = examples('/transactions/get').flatMap((v) => v.transactions as unknown[]);
const sync = examples('/transactions/sync');
writeFileSync(
  new URL('plaid.json', OUT),
  `${JSON.stringify(
    {
      from: `plaid/plaid-openapi@${PLAID.commit}:${PLAID.file}`,
      transactionsGet: get,
      syncAdded: sync.flatMap((v) => v.added as unknown[]),
      syncModified: sync.flatMap((v) => v.modified as unknown[]),
      syncRemoved: sync.flatMap((v) => v.removed as unknown[]),
    },
    null,
    2,
  )}\n`,
);
console.log('wrote', new URL('stripe.json', OUT).pathname, new URL('plaid.json', OUT).pathname);
