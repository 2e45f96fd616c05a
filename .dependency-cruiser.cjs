// The import rules between folders (docs/architecture.md). `npm run lint` fails when one is broken.
// Test files may reach across (they build the real system); the rules hold for what ships.
const services = ['gateway', 'ingest', 'processor', 'ops', 'webhooks', 'reconcile'];
const notTest = '\\.test\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-a-kernel',
      comment: 'domain/ imports nothing of ours: every service may depend on it, so it depends on none.',
      severity: 'error',
      from: { path: '^src/domain/', pathNot: notTest },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'streams-are-pure',
      comment: 'streams/ is the pure RxJS core: it knows the domain (errors, outcomes) and nothing of the databases or services.',
      severity: 'error',
      from: { path: '^src/streams/', pathNot: notTest },
      to: { path: '^src/', pathNot: '^src/(streams|domain)/' },
    },
    {
      name: 'raw-store-below-services',
      comment: 'raw-store/ owns the raw collections; services call it, never the other way round.',
      severity: 'error',
      from: { path: '^src/raw-store/', pathNot: notTest },
      to: { path: '^src/', pathNot: '^src/(raw-store|domain|db)/' },
    },
    {
      name: 'pg-store-below-services',
      comment: "pg-store/ owns PostgreSQL's tables (every statement on them, their row types); services call it, never the other way round.",
      severity: 'error',
      from: { path: '^src/pg-store/', pathNot: notTest },
      to: { path: '^src/', pathNot: '^src/(pg-store|domain|db|config)/' },
    },
    {
      name: 'mapping-is-pure',
      comment:
        'mapping/ maps raw payloads to the canonical transaction and plans revisions, for the processor and reconciliation alike: pure, it knows the domain and nothing else. ' +
        'pg-store/rows.ts is allowed for the transaction row type revision planning reads (the row types are defined once there).',
      severity: 'error',
      from: { path: '^src/mapping/', pathNot: notTest },
      to: { path: '^src/', pathNot: '^src/(mapping|domain)/|^src/pg-store/rows\\.ts$' },
    },
    {
      name: 'schedule-is-generic',
      comment: 'schedule/ holds timers any service may use (runEvery); it knows no service, store or database.',
      severity: 'error',
      from: { path: '^src/schedule/', pathNot: notTest },
      to: { path: '^src/', pathNot: '^src/(schedule|domain)/' },
    },
    {
      name: 'webhook-endpoints-below-services',
      comment:
        'webhook-endpoints/ is what registering an endpoint (gateway) and calling it (webhooks) agree on: which addresses may be called, how names resolve, secrets and signatures, the endpoint as the API shows it. ' +
        'It knows the domain only (and pg-store/rows.ts, where the endpoint and attempt rows it shows are typed once).',
      severity: 'error',
      from: { path: '^src/webhook-endpoints/', pathNot: notTest },
      to: { path: '^src/', pathNot: '^src/(webhook-endpoints|domain)/|^src/pg-store/rows\\.ts$' },
    },
    {
      name: 'http-below-services',
      comment: 'http/ is the base every HTTP service starts from; it knows no service.',
      severity: 'error',
      from: { path: '^src/http/', pathNot: notTest },
      to: { path: '^src/', pathNot: '^src/(http|domain|config)/' },
    },
    {
      name: 'db-is-infrastructure',
      comment: 'db/ connects and classifies errors; it knows no collection, table owner or service.',
      severity: 'error',
      from: { path: '^src/db/', pathNot: notTest },
      to: { path: '^src/', pathNot: '^src/(db|domain|config)/' },
    },
    ...services.map((service) => ({
      name: `${service}-does-not-import-services`,
      comment: `${service}/ goes through raw-store/, domain/, http/ and db/; where it needs another service's events or types it declares a port and cli/ wires it.`,
      severity: 'error',
      from: { path: `^src/${service}/`, pathNot: notTest },
      to: { path: `^src/(${services.filter((s) => s !== service).join('|')}|cli)/` },
    })),
    {
      name: 'dev-servers-only-for-start',
      comment: 'dev/ holds the embedded servers of `npm start`, the tests and the benchmarks; the production image drops it, so only cli/resolve.ts loads it, on demand.',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/dev/|^src/cli/resolve\\.ts$|${notTest}` },
      to: { path: '^src/dev/' },
    },
    {
      name: 'production-code-uses-production-dependencies',
      comment: 'The image installs `dependencies` alone (npm ci --omit=dev): what ships may not import a devDependency; dev/ (not shipped) may.',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/dev/|${notTest}` },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'cli-is-the-root',
      comment: 'cli/ is the composition root: nothing in src imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/cli/|${notTest}` },
      to: { path: '^src/cli/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'], exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
