// Schemathesis against /docs/json of the API running on the real stack: generated requests,
// valid and invalid, to every operation; no answer may be a 5xx, and every answer must match
// the status codes, content types and schemas the document promises. Bounded: a few examples
// per operation, one worker, so it costs about a minute.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import type { Kafka } from 'kafkajs';
import { CommandFailedError, runCommand } from '../../compose/native/run-command.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { createKafka } from '../support/kafka.ts';
import { ApiUnderTest, TEST_KEYS } from '../support/api/api-under-test.ts';
import { ensureSchemathesis } from '../support/api/schemathesis.ts';

const config = loadConfig(process.env);

describe('schema fuzzing (schemathesis)', () => {
  let kafka: Kafka;
  let under: ApiUnderTest;

  beforeAll(async () => {
    kafka = createKafka(config, 'api-fuzz');
    under = await ApiUnderTest.start(config, kafka, createLogger('fatal'));
  });

  afterAll(async () => {
    await under.stop();
  });

  it('finds no 5xx and no answer that breaks the OpenAPI document', async () => {
    const schemathesis = await ensureSchemathesis(config);
    const args = [
      'run',
      `${under.url}/docs/json`,
      '--checks',
      'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
      '--max-examples',
      '15',
      '--workers',
      '1',
      '--seed',
      '7',
      '--phases',
      'examples,coverage,fuzzing',
      // Event streams never end, so a generated request would only time out: their error
      // paths are covered by the inject tests and their stream by the integration test.
      '--exclude-path-regex',
      '/events$',
      // A key with read and ingest: the fuzzer reaches validation and the handlers, not only 401.
      '--header',
      `x-api-key: ${TEST_KEYS.ingest}`,
      '--request-timeout',
      '10',
      '--no-color',
    ];
    let output: string;
    let exitCode = 0;
    // Schemathesis keeps a cache in its working directory: not in the work tree.
    const cwd = await mkdtemp(nodePath.join(os.tmpdir(), 'continuum-schemathesis-'));
    try {
      output = await runCommand(schemathesis, args, { cwd, env: { NO_COLOR: '1' } });
    } catch (err) {
      if (!(err instanceof CommandFailedError)) throw err;
      output = err.output;
      exitCode = Number(err.context.exitCode);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
    const summary = output.split('\n').slice(-40).join('\n');
    process.stdout.write(`schemathesis summary:\n${summary}\n`);
    expect({ exitCode, summary }).toEqual({ exitCode: 0, summary });
    expect(output).toMatch(/\d+ passed/);
  }, 300_000);
});
