// The alert rules under compose/prometheus/rules reach both Prometheus servers: docker-compose's
// (mounted, listed in prometheus.yml) and the native stack's (generated config). Their PromQL is
// checked and unit-tested with promtool in test/integration/prometheus-rules.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import nodePath from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../core/config.ts';
import { repoRoot } from '../core/paths.ts';
import { prometheusConfig } from './native/services/prometheus.ts';

const read = (path: string): string => readFileSync(nodePath.join(repoRoot, path), 'utf8');
const rulesDir = nodePath.join(repoRoot, 'compose', 'prometheus', 'rules');

interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string; labels?: object }[] }[];
}

describe('Prometheus alert rules', () => {
  const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.rules.yml'));

  it('are loaded by docker-compose: mounted, and matched by rule_files', () => {
    const compose = read('docker-compose.yml');
    expect(compose).toContain('- ./compose/prometheus/rules:/etc/prometheus/rules:ro');
    const config = parse(read('compose/prometheus/prometheus.yml')) as { rule_files?: string[] };
    expect(config.rule_files).toContain('/etc/prometheus/rules/*.rules.yml');
  });

  it('are loaded by the native stack from the same folder', () => {
    const config = prometheusConfig(loadConfig({}));
    expect(config.rule_files).toContain(nodePath.join(rulesDir, '*.rules.yml'));
  });

  it('alert on ETA model drift and failing trainings, each with a severity', () => {
    expect(ruleFiles).toContain('ml.rules.yml');
    const rules = ruleFiles
      .flatMap((f) => (parse(readFileSync(nodePath.join(rulesDir, f), 'utf8')) as RuleFile).groups)
      .flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['EtaModelDrift', 'EtaTrainingFailing']),
    );
    expect(rules.find((r) => r.alert === 'EtaModelDrift')?.expr).toContain(
      'continuum_ml_drift_ratio',
    );
    for (const rule of rules) expect(rule.labels).toHaveProperty('severity');
  });
});
