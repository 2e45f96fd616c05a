// docs/operations.md's metrics table cannot drift from the registry every process builds (createMetrics, the
// one place metrics are registered): each metric, with its labels, is named there, and the table names
// nothing the registry lacks. prom-client's own process metrics are named by their prefixes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/operations.md', import.meta.url)), 'utf8');

/** The metrics the table's first column names: `name{label,…}`, or `prefix_*` for a family. */
function documented(): Array<{ name: string; labels?: string[]; family: boolean }> {
  const section = doc.slice(doc.indexOf('## Metrics and what to alert on'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| metric |')));
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `prismo_'))
    .flatMap((line) => [...line.split(' | ')[0]!.matchAll(/`(prismo_[a-z_]+)(\*)?(?:\{([a-z_,]*)\})?`/g)])
    .map(([, name, star, labels]) => ({ name: name!, labels: labels?.split(','), family: star === '*' }));
}

describe("docs/operations.md's metrics table", () => {
  // prom-client's metric objects carry their name and label names; its types do not say so for every kind.
  const registered = createMetrics().registry.getMetricsAsArray() as unknown as Array<{ name: string; labelNames?: string[] }>;
  const named = documented();

  it('names every metric the services register, with its labels', () => {
    for (const metric of registered) {
      if (named.some((entry) => entry.family && metric.name.startsWith(entry.name))) continue;
      const entry = named.find((e) => !e.family && e.name === metric.name);
      expect(entry, `${metric.name} is in the table`).toBeDefined();
      expect([...(entry?.labels ?? [])].sort(), `${metric.name}'s labels`).toEqual([...(metric.labelNames ?? [])].sort());
    }
  });

  it('names no metric the registry lacks', () => {
    const stale = named.filter((entry) =>
      entry.family ? !registered.some((m) => m.name.startsWith(entry.name)) : !registered.some((m) => m.name === entry.name),
    );
    expect(stale.map((entry) => entry.name)).toEqual([]);
  });
});
