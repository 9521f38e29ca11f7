import { isConcurrentFirstConfig } from './event-schemas.ts';

describe('isConcurrentFirstConfig', () => {
  it("is a 409 on a subject's config, and nothing else", () => {
    const url = 'http://127.0.0.1:8081/apis/ccompat/v7/config/telemetry.raw-value';
    expect(isConcurrentFirstConfig({ status: 409, url })).toBe(true);
    // An incompatible schema is refused with 409 too, on the versions path: not retried.
    expect(
      isConcurrentFirstConfig({
        status: 409,
        url: 'http://127.0.0.1:8081/apis/ccompat/v7/subjects/telemetry.raw-value/versions',
      }),
    ).toBe(false);
    expect(isConcurrentFirstConfig({ status: 500, url })).toBe(false);
    expect(isConcurrentFirstConfig(new Error('409'))).toBe(false);
    expect(isConcurrentFirstConfig(undefined)).toBe(false);
  });
});
