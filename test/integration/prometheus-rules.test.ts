// The alert rules, checked by the Prometheus that runs them: promtool (shipped with it, as the
// native stack installs it) validates every *.rules.yml and runs their unit-test cases — series
// in, alerts out — so an expression that parses but never fires is caught too.
import { readdirSync } from 'node:fs';
import nodePath from 'node:path';
import { runCommand } from '../../compose/native/run-command.ts';
import { repoRoot } from '../../core/paths.ts';

const rulesDir = nodePath.join(repoRoot, 'compose', 'prometheus', 'rules');

describe('Prometheus alert rules (promtool)', () => {
  const files = readdirSync(rulesDir);

  it('every rule file is valid PromQL and YAML', async () => {
    const rules = files.filter((f) => f.endsWith('.rules.yml'));
    expect(rules.length).toBeGreaterThan(0);
    const output = await runCommand('promtool', ['check', 'rules', ...rules], { cwd: rulesDir });
    expect(output).toContain('SUCCESS');
  });

  it('the alerts fire on the series their test cases feed them, and only then', async () => {
    const cases = files.filter((f) => f.endsWith('.rules-test.yml'));
    expect(cases).toContain('ml.rules-test.yml');
    const output = await runCommand('promtool', ['test', 'rules', ...cases], { cwd: rulesDir });
    expect(output).toContain('SUCCESS');
  });
});
