// The platform running live (test/support/pipeline/live-pipeline.ts: seeder, CDC, streams, sinks,
// trainer, `continuum lag`, API, scraped by the stack's Prometheus), seen the two ways its users
// see it, on one run (a live pipeline with a trained model takes minutes to get there):
// - the dashboard in a real browser (Debian's Chromium, driven by playwright-core): search a
//   shipment and watch its position and ETA change, see the fleet on the map, consumer lag on the
//   pipeline page, and the same on a phone's screen — with no console errors, and controls a
//   screen reader can name. Screenshots go to test-artifacts/ui/ (the README's come from here);
// - every PromQL expression of every Grafana dashboard and alert rule, evaluated by the real
//   Prometheus: each must parse and return at least one series from this run's processes (or
//   the stack's PostgreSQL, Redis and broker exporters). Grafana cannot run here; this is what
//   proves its panels.
import { mkdir } from 'node:fs/promises';
import nodePath from 'node:path';
import type { Kafka } from 'kafkajs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  CHROMIUM_ARGS,
  chromiumMajor,
  ensureChromium,
  playwrightChromiumMajor,
} from '../../compose/native/chromium.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { repoRoot } from '../../core/paths.ts';
import { waitFor } from '../../core/wait-for.ts';
import { createKafka } from '../support/kafka.ts';
import { LIVE_PIPELINE_DEFAULTS, LivePipeline } from '../support/pipeline/live-pipeline.ts';
import { expressions, problemsOf } from '../support/promql-checks.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');
export const ARTIFACTS = nodePath.join(repoRoot, 'test-artifacts', 'ui');

const LAPTOP = { width: 1366, height: 820 };
const PHONE = { width: 390, height: 844 };

interface Watched {
  page: Page;
  /** Console errors and uncaught exceptions of the page. */
  errors: string[];
}

async function open(context: BrowserContext, url: string): Promise<Watched> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(url);
  return { page, errors };
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: nodePath.join(ARTIFACTS, `${name}.png`), fullPage: false });
}

/** Controls without a name a screen reader could announce (inputs without labels, bare buttons). */
async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    for (const input of Array.from(document.querySelectorAll('input, select, textarea'))) {
      const field = input as HTMLInputElement;
      if (field.labels?.length === 0 && !field.getAttribute('aria-label'))
        problems.push(`input ${field.outerHTML.slice(0, 80)}`);
    }
    for (const control of Array.from(document.querySelectorAll('button, a[href]'))) {
      const name = (control.getAttribute('aria-label') ?? control.textContent ?? '').trim();
      if (!name && !control.getAttribute('title'))
        problems.push(`control ${control.outerHTML.slice(0, 80)}`);
    }
    if (!document.querySelector('main')) problems.push('no main landmark');
    if (!document.querySelector('nav[aria-label]')) problems.push('no labelled navigation');
    if (!document.querySelector('h1')) problems.push('no h1');
    return problems;
  });
}

let kafka: Kafka;
let pipeline: LivePipeline | undefined;

beforeAll(async () => {
  kafka = createKafka(config, 'live-platform');
  // About 45× wall time, a reading per vehicle every ~0.7 s: a trip lasts minutes, so the
  // shipment watched is still moving while it is; enough vehicles that ten deliveries complete
  // soon for the run's trainer to train on.
  pipeline = await LivePipeline.start(config, kafka, log, {
    ...LIVE_PIPELINE_DEFAULTS,
    simulation: { ...LIVE_PIPELINE_DEFAULTS.simulation, vehicles: 16, shipmentsPerHour: 60 },
    eventsPerSecond: 24,
  });
}, 360_000);

afterAll(async () => {
  await pipeline?.stop();
}, 120_000);

describe('the dashboard in Chromium, against the running pipeline', () => {
  let browser: Browser | undefined;
  let shipmentId = '';
  let executablePath = '';

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    executablePath = await ensureChromium(log);
    shipmentId = await (pipeline as LivePipeline).shipmentOnTheRoad(40);
    browser = await chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS] });
  }, 360_000);

  afterAll(async () => {
    await browser?.close();
  }, 120_000);

  const url = (hash: string): string => `${pipeline?.api.url ?? ''}/#${hash}`;

  it("drives Debian's Chromium with the playwright-core release built for it", async () => {
    expect(await chromiumMajor(executablePath)).toBe(playwrightChromiumMajor());
  });

  it('finds a shipment by search and shows its position and ETA changing live', async () => {
    const context = await (browser as Browser).newContext({ viewport: LAPTOP });
    try {
      const { page, errors } = await open(context, url('/shipments'));
      await page.getByRole('heading', { name: 'Shipments' }).waitFor();
      await page.getByLabel('Search shipments').fill(shipmentId);
      await page.getByRole('button', { name: 'Open' }).click();
      const detail = page.getByRole('region', { name: shipmentId });
      await detail.waitFor();
      const position = detail.getByTestId('position');
      const eta = detail.getByTestId('eta');
      await expectText(position, /^\d+\.\d{4}, \d+\.\d{4}$/);
      const first = { position: await position.textContent(), eta: await eta.textContent() };
      // Both change as new readings arrive over the event stream, without reloading.
      await page.waitForFunction(
        (before) =>
          document.querySelector('[data-testid="position"]')?.textContent !== before.position &&
          document.querySelector('[data-testid="eta"]')?.textContent !== before.eta,
        first,
        { timeout: 90_000, polling: 250 },
      );
      await expect(detail.getByTestId('model-version').textContent()).resolves.toMatch(/\S/);
      await detail.getByRole('list', { name: 'Recent changes' }).waitFor();
      await screenshot(page, 'shipment-detail');
      expect(await unnamedControls(page)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);

  it('draws the vehicles on the map of the simulated world', async () => {
    const context = await (browser as Browser).newContext({ viewport: LAPTOP });
    try {
      const { page, errors } = await open(context, url('/map'));
      await page.locator('.fleet-map canvas').waitFor();
      await page.locator('.vehicle-label').first().waitFor({ timeout: 60_000 });
      await expect(page.locator('.city-label').count()).resolves.toBeGreaterThan(5);
      await expect(page.getByRole('alert').count()).resolves.toBe(0);
      await screenshot(page, 'map');
      expect(await unnamedControls(page)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('shows consumer lag from Prometheus on the pipeline page', async () => {
    const context = await (browser as Browser).newContext({ viewport: LAPTOP });
    try {
      await pipeline?.waitUntilScraped(config.prometheus.url);
      const { page, errors } = await open(context, url('/pipeline'));
      const lag = page.getByTestId('chart-consumer-lag');
      // A row of this run's groups, as `continuum lag` measured them and Prometheus scraped them.
      const ours = lag.getByRole('rowheader', {
        name: new RegExp(`^${pipeline?.groupPrefix ?? '-'}-`),
      });
      await ours.first().waitFor({ timeout: 90_000 });
      await expect(lag.locator('canvas').count()).resolves.toBeGreaterThan(0);
      await expect(lag.getByTestId('latest-value').first().textContent()).resolves.toMatch(/\d/);
      await screenshot(page, 'pipeline');
      expect(await unnamedControls(page)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 150_000);

  it('lists the ETA model versions, or says clearly that none is trained yet', async () => {
    const context = await (browser as Browser).newContext({ viewport: LAPTOP });
    try {
      const { page, errors } = await open(context, url('/models'));
      await page.getByRole('heading', { name: 'ETA models' }).waitFor();
      // The model serving each shipment, from the states themselves.
      await page.locator('.serving li').first().waitFor({ timeout: 60_000 });
      await expect(page.locator('.serving').textContent()).resolves.toMatch(/predicts \d+/);
      // The run's trainer trains once ten deliveries are in; until then the page must say that
      // no model is trained yet, and afterwards list the version (and mark a champion, if any).
      const listed = (await (await fetch(`${pipeline?.api.url ?? ''}/v1/ml/models`)).json()) as {
        versions: unknown[];
      };
      if (listed.versions.length === 0) await page.getByTestId('models-empty').waitFor();
      const trained = await (pipeline as LivePipeline).trainedModels();
      await page.reload();
      const table = page.getByRole('table');
      await table
        .getByRole('cell', { name: String(trained.versions[0]?.version), exact: true })
        .first()
        .waitFor({ timeout: 30_000 });
      if (trained.champion !== null)
        await table.getByRole('cell', { name: 'champion' }).first().waitFor({ timeout: 30_000 });
      await screenshot(page, 'models');
      expect(await unnamedControls(page)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 480_000);

  it('fits a phone: no sideways scrolling, the list and a shipment readable', async () => {
    const context = await (browser as Browser).newContext({
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    try {
      const { page, errors } = await open(context, url(`/shipments?q=${shipmentId}`));
      await page.getByRole('link', { name: shipmentId }).waitFor();
      const overflow = (): Promise<number> =>
        page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(await overflow()).toBeLessThanOrEqual(0);
      await screenshot(page, 'phone-list');
      await page.getByRole('link', { name: shipmentId }).click();
      await page.getByRole('region', { name: shipmentId }).getByTestId('eta').waitFor();
      expect(await overflow()).toBeLessThanOrEqual(0);
      await screenshot(page, 'phone-detail');
      expect(await unnamedControls(page)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});

describe('PromQL of the dashboards and alert rules, on the real Prometheus', () => {
  beforeAll(async () => {
    const live = pipeline as LivePipeline;
    await live.waitUntilScraped(config.prometheus.url);
    // Deliveries, lag, dead letters and requests (one refused: the 4xx panel has a series).
    await live.shipmentOnTheRoad();
    await fetch(`${live.api.url}/v1/shipments/SHP-NOT-THERE`);
    await fetch(`${live.api.url}/v1/shipments?limit=5`);
    // The model panels (MAE per version) have series once the run's trainer has trained.
    await live.trainedModels();
    // rate() needs two scrapes inside its window, and the lag in seconds two measurements: wait
    // until every expression answers (each test below then says what is wrong, if anything).
    await waitFor(
      async () => {
        for (const e of expressions)
          if ((await problemsOf(config.prometheus.url, e, live.id)).length > 0) return false;
        return true;
      },
      { timeoutMs: 150_000, intervalMs: 5_000, description: 'every expression to return series' },
    ).catch(() => undefined);
  }, 720_000);

  it('has expressions to check, from every dashboard and alert rule', () => {
    const dashboards = new Set(
      expressions.map((e) => (e.where.startsWith('alert ') ? 'alerts' : e.where.split(' › ')[0])),
    );
    expect(dashboards.size).toBe(6); // five dashboards and the alerts
    expect(expressions.length).toBeGreaterThan(30);
  });

  it.each(expressions.map((e) => [e.where, e] as const))(
    '%s parses and returns at least one series, from this run',
    async (_where, expression) => {
      expect(await problemsOf(config.prometheus.url, expression, pipeline?.id ?? 'none')).toEqual(
        [],
      );
    },
  );
});

async function expectText(locator: ReturnType<Page['locator']>, pattern: RegExp): Promise<void> {
  await locator.waitFor();
  await locator
    .page()
    .waitForFunction(
      ([selector, source]) =>
        new RegExp(source).test(document.querySelector(selector)?.textContent ?? ''),
      ['[data-testid="position"]', pattern.source] as const,
      { timeout: 60_000, polling: 250 },
    );
}
