import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EXIT } from './exit-codes.ts';
import { runProgram } from './program.ts';

async function run(
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runProgram(argv, {
    env,
    out: (t) => (out += `${t}\n`),
    err: (t) => (err += t),
  });
  return { code, out, err };
}

describe('continuum CLI', () => {
  it('prints help with the commands and exit codes', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/stack\s+the local stack/);
    expect(out).toContain('Exit codes:');
  });

  it('loads under plain Node, as `npx continuum` runs it (not through the Jest transform)', () => {
    // Node's ESM view of a CommonJS package names only the exports its lexer finds (kafkajs's
    // ConfigResourceTypes is not one); Jest's transform hides such an import error.
    const bin = fileURLToPath(new URL('../bin/continuum.js', import.meta.url));
    const run = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(EXIT.ok);
    expect(run.stdout).toMatch(/streams\s/);
  });

  it('exits 2 on an unknown command', async () => {
    const { code, err } = await run(['frobnicate']);
    expect(code).toBe(EXIT.usage);
    expect(err).toContain("unknown command 'frobnicate'");
  });

  it('exits 2 on an unknown service name', async () => {
    const { code, err } = await run(['stack', 'logs', 'oracle']);
    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(/Allowed choices are kafka, kafka-2, kafka-3, schema-registry/);
  });

  it('exits 3 naming the variable when the configuration is invalid', async () => {
    const { code, err } = await run(['config'], { CONTINUUM_KAFKA_BROKERS: 'nope' });
    expect(code).toBe(EXIT.config);
    expect(err).toContain('CONTINUUM_KAFKA_BROKERS');
  });

  it('lists every variable with its default', async () => {
    const { code, out } = await run(['config'], { CONTINUUM_API_PORT: '8181' });
    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/CONTINUUM_API_PORT\s+8181/);
    expect(out).toMatch(/CONTINUUM_REDIS_URL\s+\(default\) redis:\/\/127\.0\.0\.1:6379/);
  });

  it('masks passwords in URLs and API keys', async () => {
    const { code, out } = await run(['config'], {
      CONTINUUM_POSTGRES_URL: 'postgres://continuum:pg-pass-1@127.0.0.1:5432/continuum',
      CONTINUUM_API_KEYS: `ops:admin:sha256:${'ab'.repeat(32)}`,
    });
    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/CONTINUUM_POSTGRES_URL\s+postgres:\/\/continuum:\*\*\*@127\.0\.0\.1:5432/);
    expect(out).toMatch(/CONTINUUM_API_KEYS\s+\*\*\*\s/);
    expect(out).not.toContain('pg-pass-1');
    expect(out).not.toContain('abab');
  });
});
