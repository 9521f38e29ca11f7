import { loadConfig } from '../../../core/config.ts';
import { prometheusConfig } from './prometheus.ts';

describe('prometheus scrape configuration', () => {
  it('scrapes every Continuum process at its configured metrics port, and a file_sd folder', () => {
    const config = loadConfig({
      CONTINUUM_STATE_DIR: '/state',
      CONTINUUM_STREAMS_METRICS_PORT: '9999',
    });
    const scrape = prometheusConfig(config).scrape_configs;
    const continuum = scrape.find((s) => s.job_name === 'continuum');
    const targets = Object.fromEntries(
      (continuum?.static_configs ?? []).map((c) => [c.labels?.process ?? '', c.targets[0] ?? '']),
    );
    expect(targets).toEqual({
      api: '127.0.0.1:8080',
      streams: '127.0.0.1:9999',
      connect: '127.0.0.1:9465',
      ml: '127.0.0.1:9466',
      seed: '127.0.0.1:9467',
      lag: '127.0.0.1:9471',
    });
    const dynamic = scrape.find((s) => s.job_name === 'continuum-dynamic');
    expect(dynamic?.file_sd_configs?.[0]?.files).toEqual(['/state/prometheus/targets/*.json']);
    // The trainer's rules from the repository, and the alerts generated with the dashboards.
    expect(prometheusConfig(config).rule_files).toEqual([
      expect.stringMatching(/compose\/prometheus\/rules\/\*\.rules\.yml$/),
      '/state/prometheus/alerts.yml',
    ]);
  });
});
