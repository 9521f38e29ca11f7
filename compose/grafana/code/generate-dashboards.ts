// `npm run dashboards`: writes every dashboard's JSON (compose/grafana/dashboards) and the alert
// rules (compose/prometheus/alerts.yml) from the code; dashboards.test.ts fails while the
// committed files differ from what this writes.
import { writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { alertRulesYaml } from './alert-rules.ts';
import {
  ALERT_RULES_FILE,
  DASHBOARDS,
  DASHBOARDS_DIR,
  dashboardText,
  formatted,
} from './dashboards.ts';

for (const { file, build } of DASHBOARDS) {
  await writeFile(nodePath.join(DASHBOARDS_DIR, file), await dashboardText(build));
  process.stdout.write(`wrote ${nodePath.join(DASHBOARDS_DIR, file)}\n`);
}
await writeFile(ALERT_RULES_FILE, await formatted(ALERT_RULES_FILE, alertRulesYaml()));
process.stdout.write(`wrote ${ALERT_RULES_FILE}\n`);
