// docs/configuration.md cannot drift from the schema: every variable envSchema declares has a row, with the
// schema's default and bounds and the roles that read it, and no row names a variable the schema dropped.
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envSchema } from './config.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'utf8');

/** The environment table's rows by variable: the cells after the first. */
function tableRows(): Map<string, { defaultCell: string; accepted: string; readBy: string }> {
  const rows = new Map<string, { defaultCell: string; accepted: string; readBy: string }>();
  for (const line of doc.split('\n')) {
    const cells = line.split(' | ').map((cell) => cell.replace(/^\| ?| ?\|$/g, '').trim());
    const name = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[0] ?? '')?.[1];
    if (name && cells.length === 5) rows.set(name, { defaultCell: cells[1]!, accepted: cells[2]!, readBy: cells[3]! });
  }
  return rows;
}

interface Property {
  type?: string;
  default?: unknown;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  minLength?: number;
  enum?: string[];
}

/** What the schema says of each variable, as JSON Schema (zod's own rendering of its checks). */
const properties = (z.toJSONSchema(envSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, Property> })
  .properties;
const parsedDefaults = envSchema.parse({}) as Record<string, unknown>;

/**
 * The default as the table writes it: `value`, or "unset". One drawn per machine or process (WORKER_ID) is
 * written with placeholders: its host name as <host>, its pid as <pid>, a random hex suffix as <random>.
 */
function expectedDefault(name: string, property: Property): string {
  const value = property.default ?? parsedDefaults[name];
  if (value === undefined || (value instanceof Map && value.size === 0)) return 'unset';
  const text = String(value);
  if (!text.startsWith(`${hostname()}-`)) return `\`${text}\``;
  const placeheld = `<host>${text.slice(hostname().length)}`.replace(`-${process.pid}`, '-<pid>').replace(/-[0-9a-f]{8,}$/, '-<random>');
  return `\`${placeheld}\``;
}

/** The bounds the table must state: the lowest and (when there is one) the highest integer accepted. */
function expectedBounds(property: Property): string[] {
  if (property.enum) return property.enum.map((value) => `\`${value}\``);
  if (property.type === 'integer') {
    const lowest = property.minimum ?? (property.exclusiveMinimum ?? 0) + 1;
    const highest = property.maximum !== undefined && property.maximum < Number.MAX_SAFE_INTEGER ? [property.maximum] : [];
    return [lowest, ...highest].map(String);
  }
  return property.minLength !== undefined && property.minLength > 1 ? [String(property.minLength)] : [];
}

/** Who may read a setting: the four roles and the CLI's commands (src/cli/commands/, serve being the roles). */
const readers = new Set([
  'gateway',
  'ingest',
  'processor',
  'deliverer',
  'every command',
  ...readdirSync(fileURLToPath(new URL('../cli/commands/', import.meta.url)))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => file.replace(/\.ts$/, '')),
]);

describe('docs/configuration.md', () => {
  const rows = tableRows();

  it('has a row for every variable of the schema, and none for a variable it does not know', () => {
    const declared = Object.keys(envSchema.shape);
    expect(declared.filter((name) => !rows.has(name))).toEqual([]);
    expect([...rows.keys()].filter((name) => !declared.includes(name))).toEqual([]);
  });

  it("gives each variable the schema's default and bounds", () => {
    for (const [name, property] of Object.entries(properties)) {
      const row = rows.get(name);
      if (!row) continue; // the test above names it
      const expected = expectedDefault(name, property);
      expect(expected === 'unset' ? row.defaultCell : row.defaultCell.split(' ')[0], `${name}'s default`).toBe(expected);
      const stated = new Set([...row.accepted.matchAll(/`[^`]+`|\d+/g)].map((match) => match[0]));
      for (const bound of expectedBounds(property)) expect(stated.has(bound), `${name} accepts ${bound}`).toBe(true);
    }
  });

  it('names the roles or commands that read each variable', () => {
    for (const [name, { readBy }] of rows) {
      const named = readBy
        .replace(/\([^)]*\)/g, '')
        .split(/[;,]/)
        .map((part) => part.trim())
        .filter(Boolean);
      expect(named.length, name).toBeGreaterThan(0);
      for (const reader of named) expect(readers.has(reader), `${name} is read by "${reader}"`).toBe(true);
    }
  });
});
