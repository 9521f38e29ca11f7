// The holdout plot is an SVG with one dot per point (model and baseline) and the MAE bars.
import { holdoutPlotSvg } from './holdout-plot.ts';

describe('holdoutPlotSvg', () => {
  it('draws the model and the baseline, and the MAE per horizon', () => {
    const points = [5, 20, 45, 90, 150].map((actual) => ({
      actual,
      predicted: actual + 2,
      low: actual - 5,
      high: actual + 9,
      distanceOverSpeed: actual * 1.5,
      routeHourSpeed: actual + 10,
    }));
    const svg = holdoutPlotSvg({ title: 'eta <test> & co', points, baseline: 'routeHourSpeed' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('eta &lt;test&gt; &amp; co');
    expect(svg.match(/<circle /g)).toHaveLength(10);
    // Every horizon has one point: model MAE 2.0, baseline MAE 10.0.
    expect(svg.match(/>2\.0</g)).toHaveLength(5);
    expect(svg.match(/>10\.0</g)).toHaveLength(5);
  });
});
