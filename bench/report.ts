// The shape of results every scenario returns, and the table the runner prints.
export interface Measurement {
  scenario: string;
  variant: string;
  throughput?: number;
  unit?: string;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  peakRssMiB?: number;
  notes?: string;
}

export interface Ratio {
  scenario: string;
  what: string;
  value: number;
}

export interface ScenarioResult {
  measurements: Measurement[];
  ratios: Ratio[];
}

const fmt = (value: number | undefined, digits = 1) => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));

export function formatTables({ measurements, ratios }: ScenarioResult): string {
  const rows = [
    ['scenario', 'variant', 'throughput', 'unit', 'p50 ms', 'p95 ms', 'p99 ms', 'peak RSS MiB', 'notes'],
    ...measurements.map((m) => [
      m.scenario,
      m.variant,
      fmt(m.throughput, 0),
      m.unit ?? '',
      fmt(m.p50Ms),
      fmt(m.p95Ms),
      fmt(m.p99Ms),
      fmt(m.peakRssMiB),
      m.notes ?? '',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) =>
    r
      .map((cell, i) => (i >= 2 && i <= 7 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  table.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const ratioLines = ratios.map((r) => `  ${r.scenario}: ${r.what} = ${r.value.toFixed(2)}`);
  return `${table.join('\n')}\n\nratios (same run):\n${ratioLines.join('\n')}`;
}
