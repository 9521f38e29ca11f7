// What `continuum schemas register|check` print: tables, and the explanations under them.
import { bindingFor, type CheckOutcome, type RegisterOutcome } from '../../schemas/subjects.ts';
import { checkDetails, checkTable, registerTable } from './schemas.ts';

const telemetry = bindingFor('telemetry.raw', 'VehicleTelemetry');
const models = bindingFor('eta.models', 'EtaModel');

test('register prints subject, schema, id, version and the refusals', () => {
  const outcomes: RegisterOutcome[] = [
    { binding: telemetry, id: 7, version: 2 },
    { binding: models, error: 'refused: not BACKWARD compatible', status: 409 },
  ];
  expect(registerTable(outcomes).split('\n')).toEqual([
    'SUBJECT              SCHEMA            ID  VERSION  RESULT',
    '-------------------  ----------------  --  -------  ----------------------------------',
    'telemetry.raw-value  VehicleTelemetry  7   2        registered',
    'eta.models-value     EtaModel          -   -        ✗ refused: not BACKWARD compatible',
  ]);
});

describe('check output', () => {
  const incompatible: CheckOutcome = {
    binding: telemetry,
    state: 'incompatible',
    latestVersion: 3,
    latestId: 41,
    registryLevel: 'BACKWARD',
    checkedLevel: 'BACKWARD',
    comparedVersions: [3],
    registryCompatible: false,
    violations: [
      {
        direction: 'BACKWARD',
        rule: 'field-without-default',
        path: 'VehicleTelemetry.odometerKm',
        message: 'field `VehicleTelemetry.odometerKm` was added without a default: …',
        version: 3,
      },
    ],
  };
  const fresh: CheckOutcome = {
    binding: models,
    state: 'new',
    checkedLevel: 'BACKWARD',
    comparedVersions: [],
    violations: [],
  };

  test('the table has one row per subject with both answers', () => {
    const rows = checkTable([incompatible, fresh]).split('\n');
    expect(rows[2]).toMatch(
      /^telemetry\.raw-value\s+VehicleTelemetry\s+v3 \(id 41\)\s+BACKWARD\s+refuses\s+1 violation\(s\)\s+✗ INCOMPATIBLE$/,
    );
    expect(rows[3]).toMatch(
      /^eta\.models-value\s+EtaModel\s+-\s+-\s+-\s+-\s+new subject, would register version 1$/,
    );
  });

  test('only incompatible or disputed subjects get explanations, with the note when answers differ', () => {
    expect(checkDetails([fresh])).toBe('');
    expect(checkDetails([incompatible])).toBe(
      [
        '✗ telemetry.raw-value (VehicleTelemetry), BACKWARD against version 3:',
        '  - field `VehicleTelemetry.odometerKm` was added without a default: …',
      ].join('\n'),
    );
    const disputed: CheckOutcome = {
      ...incompatible,
      violations: [],
      disagreement: 'the registry refuses it (level BACKWARD) but …',
    };
    expect(checkDetails([disputed])).toContain(
      '  note: the registry refuses it (level BACKWARD) but …',
    );
  });
});
