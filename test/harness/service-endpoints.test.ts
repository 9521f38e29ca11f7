import { chooseSource, ENDPOINT_VARIABLES } from './service-endpoints.ts';

describe('chooseSource', () => {
  const allEndpoints = Object.fromEntries(ENDPOINT_VARIABLES.map((v) => [v, 'x://y:1']));
  const docker = (answers: boolean) => () => Promise.resolve(answers);

  it('uses the environment when it names every service', async () => {
    expect(await chooseSource(allEndpoints, docker(true))).toBe('environment');
  });
  it('prefers containers when a Docker engine answers', async () => {
    expect(await chooseSource({ CONTINUUM_REDIS_URL: 'redis://h:1' }, docker(true))).toBe(
      'testcontainers',
    );
  });
  it('falls back to the native stack', async () => {
    expect(await chooseSource({}, docker(false))).toBe('native');
  });
  it('obeys CONTINUUM_TEST_SERVICES and rejects a bad value', async () => {
    expect(await chooseSource({ CONTINUUM_TEST_SERVICES: 'native' }, docker(true))).toBe('native');
    expect(() => chooseSource({ CONTINUUM_TEST_SERVICES: 'cloud' }, docker(true))).toThrow(
      /expected environment, testcontainers or native/,
    );
  });
});
