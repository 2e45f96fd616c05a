// What ships for monitoring refers to what the code exports: every metric an alert rule or a Grafana panel
// names exists in the registry (a renamed metric would silence an alert without a sound), the dashboard
// reads the provisioned datasource, and the compose profile mounts files that exist. The rules' behaviour
// is tested by promtool (ops/alerts.test.yml, scripts/check-alerts.sh).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../src/ops/metrics.js';

const file = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const read = (path: string) => readFileSync(file(path), 'utf8');

/** Every series name a PromQL expression mentions (prismo_*). */
const metricsIn = (expr: string) => [...expr.matchAll(/\bprismo_[a-z_]+/g)].map((m) => m[0]);

async function exportedNames(): Promise<Set<string>> {
  const metrics = createMetrics();
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

interface Rule {
  alert: string;
  expr: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

describe('monitoring as shipped', () => {
  const rules = (parse(read('ops/alerts.yml')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
  const dashboard = JSON.parse(read('ops/grafana/prismo.json')) as {
    uid: string;
    panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }>;
  };

  it('every alert names metrics the services export, and says what to do', async () => {
    const names = await exportedNames();
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const rule of rules) {
      expect(metricsIn(rule.expr).length, rule.alert).toBeGreaterThan(0);
      for (const metric of metricsIn(rule.expr)) expect(names.has(metric), `${rule.alert}: ${metric}`).toBe(true);
      expect(['info', 'warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      expect(rule.annotations.description.length).toBeGreaterThan(10);
    }
  });

  it('every alert has a fire and a quiet case in the promtool tests', () => {
    const tests = parse(read('ops/alerts.test.yml')) as {
      tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const rule of rules) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${rule.alert} fires somewhere`,
      ).toBe(true);
      if (rule.alert !== 'PrismoMemoryGrowing') {
        expect(
          mine.some((c) => c.exp_alerts.length === 0),
          `${rule.alert} stays quiet somewhere`,
        ).toBe(true);
      }
    }
  });

  it('every alert has a runbook entry (docs/runbook.md) with its severity, and every entry an alert', () => {
    const runbook = read('docs/runbook.md');
    // Each entry: a "### Name" heading, then its text up to the next heading.
    const entries = new Map(
      runbook
        .split(/^#{2,3} /m)
        .slice(1)
        .map((section) => [section.split('\n')[0]!.trim(), section] as const)
        .filter(([title]) => /^Prismo[A-Za-z]+$/.test(title)),
    );
    for (const rule of rules) {
      const entry = entries.get(rule.alert);
      expect(entry, `${rule.alert} has a runbook entry`).toBeDefined();
      expect(entry, `${rule.alert}'s severity`).toContain(`**Severity** \`${rule.labels.severity}\``);
      for (const part of ['**Means**', '**First checks**', '**Fix**']) expect(entry, `${rule.alert}: ${part}`).toContain(part);
    }
    expect([...entries.keys()].filter((title) => !rules.some((rule) => rule.alert === title))).toEqual([]);
  });

  it("the Grafana dashboard has the board's figures, on metrics that exist, from the provisioned datasource", async () => {
    const names = await exportedNames();
    const datasource = parse(read('ops/grafana/provisioning/datasources/prometheus.yml')) as { datasources: Array<{ uid: string }> };
    const titles = dashboard.panels.map((p) => p.title);
    for (const title of ['Backlog', 'Oldest unprocessed', 'Processed /s', 'Failed', 'Dead', 'Change-stream lag', 'Documents per second']) {
      expect(titles).toContain(title);
    }
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid).toBe(datasource.datasources[0]!.uid);
      for (const target of panel.targets) {
        expect(metricsIn(target.expr).length, panel.title).toBeGreaterThan(0);
        for (const metric of metricsIn(target.expr)) expect(names.has(metric), `${panel.title}: ${metric}`).toBe(true);
      }
    }
  });

  it('the compose monitoring profile mounts the rules, the provisioning and the dashboard, which exist', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { profiles?: string[]; volumes?: string[] }>;
    };
    const mounts = ['prometheus', 'grafana'].flatMap((name) => {
      expect(compose.services[name]?.profiles).toEqual(['monitoring']);
      return compose.services[name]!.volumes!.map((volume) => volume.split(':')[0]!);
    });
    expect(mounts).toEqual(
      expect.arrayContaining(['./ops/prometheus.yml', './ops/alerts.yml', './ops/grafana/provisioning', './ops/grafana/prismo.json']),
    );
    for (const mount of mounts) expect(existsSync(file(mount.replace(/^\.\//, ''))), mount).toBe(true);
    expect((parse(read('ops/prometheus.yml')) as { rule_files: string[] }).rule_files).toEqual(['alerts.yml']);
  });
});
