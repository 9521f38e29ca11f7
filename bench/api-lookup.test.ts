// The api-lookup benchmark's options (its arithmetic is pipeline-stats', tested beside it).
import { API_LOOKUP_BENCH_DEFAULTS, resolveApiLookupBenchOptions } from './api-lookup-options.ts';
import { BenchOptionsError } from './pipeline-options.ts';

describe('resolveApiLookupBenchOptions', () => {
  it('fills in the defaults and coerces command-line strings', () => {
    expect(resolveApiLookupBenchOptions(undefined)).toEqual(API_LOOKUP_BENCH_DEFAULTS);
    expect(resolveApiLookupBenchOptions({ loadRate: '2500', probes: undefined })).toEqual({
      ...API_LOOKUP_BENCH_DEFAULTS,
      loadRate: 2_500,
    });
  });

  it('names the option and the benchmark', () => {
    expect(() => resolveApiLookupBenchOptions({ probes: '0' })).toThrow(BenchOptionsError);
    expect(() => resolveApiLookupBenchOptions({ probes: '0' })).toThrow(
      /api-lookup benchmark options: --probes/,
    );
    expect(() => resolveApiLookupBenchOptions({ loadRate: 'fast' })).toThrow(/--load-rate/);
  });
});
