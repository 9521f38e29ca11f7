// The holdout plot logged with every run (MLflow's artifact view shows SVG): predicted against
// actual minutes to arrival for the model and the better baseline, with the diagonal, and the
// MAE of each by how far out the checkpoint was. Plain SVG text, no plotting dependency.
import type { HoldoutPoint } from './train-eta-model.ts';

export interface HoldoutPlotInput {
  title: string;
  points: readonly HoldoutPoint[];
  /** Which baseline to draw beside the model (the better one). */
  baseline: 'distanceOverSpeed' | 'routeHourSpeed';
}

const W = 960;
const H = 440;
const PANEL = 380;
const MARGIN = 50;

const BASELINE_LABEL = {
  distanceOverSpeed: 'distance ÷ speed (join baseline)',
  routeHourSpeed: 'distance ÷ route-hour mean speed',
};

/** Horizons (minutes to arrival) the MAE bars are grouped by. */
const HORIZONS: readonly [number, number][] = [
  [0, 15],
  [15, 30],
  [30, 60],
  [60, 120],
  [120, Number.POSITIVE_INFINITY],
];

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** At most `max` points, evenly spaced, so a plot of 30k checkpoints stays a few hundred KiB. */
function thin<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)] as T);
}

export function holdoutPlotSvg(input: HoldoutPlotInput): string {
  const points = thin(input.points, 2_000);
  const top = Math.max(10, ...points.map((p) => Math.max(p.actual, p.predicted)));
  const scale = (v: number): number => (Math.min(v, top) / top) * PANEL;
  const x0 = MARGIN;
  const y0 = MARGIN + PANEL - 20;
  const dot = (v: number, y: number, color: string): string =>
    `<circle cx="${(x0 + scale(v)).toFixed(1)}" cy="${(y0 - scale(y)).toFixed(1)}" r="1.6" fill="${color}" fill-opacity="0.45"/>`;
  const scatter = [
    ...points.map((p) => dot(p.actual, p[input.baseline], '#999999')),
    ...points.map((p) => dot(p.actual, p.predicted, '#1f77b4')),
  ].join('');

  const bx0 = MARGIN * 2 + PANEL + 40;
  const groups = HORIZONS.map(([lo, hi]) => {
    const inGroup = input.points.filter((p) => p.actual >= lo && p.actual < hi);
    const mae = (pick: (p: HoldoutPoint) => number): number =>
      inGroup.length === 0
        ? 0
        : inGroup.reduce((s, p) => s + Math.abs(p.actual - pick(p)), 0) / inGroup.length;
    return {
      label: hi === Number.POSITIVE_INFINITY ? `${lo}+` : `${lo}–${hi}`,
      n: inGroup.length,
      model: mae((p) => p.predicted),
      baseline: mae((p) => p[input.baseline]),
    };
  });
  const maxMae = Math.max(1, ...groups.flatMap((g) => [g.model, g.baseline]));
  const barWidth = 28;
  const bars = groups
    .map((g, i) => {
      const x = bx0 + i * (2 * barWidth + 16);
      const h = (v: number): number => (v / maxMae) * (PANEL - 40);
      return [
        `<rect x="${x}" y="${(y0 - h(g.model)).toFixed(1)}" width="${barWidth}" height="${h(g.model).toFixed(1)}" fill="#1f77b4"/>`,
        `<rect x="${x + barWidth}" y="${(y0 - h(g.baseline)).toFixed(1)}" width="${barWidth}" height="${h(g.baseline).toFixed(1)}" fill="#999999"/>`,
        `<text x="${x + barWidth}" y="${y0 + 16}" text-anchor="middle" font-size="11">${g.label}</text>`,
        `<text x="${x + barWidth}" y="${y0 + 30}" text-anchor="middle" font-size="10" fill="#555">n=${g.n}</text>`,
        `<text x="${x + barWidth / 2}" y="${(y0 - h(g.model) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${g.model.toFixed(1)}</text>`,
        `<text x="${x + 1.5 * barWidth}" y="${(y0 - h(g.baseline) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${g.baseline.toFixed(1)}</text>`,
      ].join('');
    })
    .join('');

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${MARGIN}" y="24" font-size="15">${escape(input.title)}</text>`,
    // Scatter panel with its axes and diagonal.
    `<line x1="${x0}" y1="${y0}" x2="${x0 + PANEL}" y2="${y0}" stroke="black"/>`,
    `<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y0 - PANEL}" stroke="black"/>`,
    `<line x1="${x0}" y1="${y0}" x2="${x0 + PANEL}" y2="${y0 - PANEL}" stroke="#d62728" stroke-dasharray="4 3"/>`,
    scatter,
    `<text x="${x0 + PANEL / 2}" y="${y0 + 32}" text-anchor="middle" font-size="12">actual minutes to arrival (0–${Math.round(top)})</text>`,
    `<text x="14" y="${y0 - PANEL / 2}" font-size="12" transform="rotate(-90 14 ${y0 - PANEL / 2})" text-anchor="middle">predicted minutes</text>`,
    // MAE by horizon.
    `<text x="${bx0}" y="${MARGIN + 4}" font-size="12">MAE (minutes) by actual minutes to arrival</text>`,
    `<line x1="${bx0 - 6}" y1="${y0}" x2="${W - 20}" y2="${y0}" stroke="black"/>`,
    bars,
    `<rect x="${bx0}" y="${MARGIN + 14}" width="10" height="10" fill="#1f77b4"/><text x="${bx0 + 14}" y="${MARGIN + 23}" font-size="11">model</text>`,
    `<rect x="${bx0 + 70}" y="${MARGIN + 14}" width="10" height="10" fill="#999999"/><text x="${bx0 + 84}" y="${MARGIN + 23}" font-size="11">${escape(BASELINE_LABEL[input.baseline])}</text>`,
    '</svg>',
  ].join('\n');
}
