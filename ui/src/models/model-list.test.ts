import { parseModels } from './model-list.ts';

describe('parseModels', () => {
  it('reads versions, metrics and the champion, newest first', () => {
    const rows = parseModels({
      models: [
        { modelName: 'eta', version: 1, metrics: { mae: 9.5, rmse: 12 }, trainedAt: 1_000 },
        {
          modelName: 'eta',
          version: 2,
          metrics: { mae: 6.1 },
          trainedAt: 2_000,
          aliases: ['champion'],
        },
      ],
    });
    expect(rows).toEqual([
      {
        model: 'eta',
        version: '2',
        champion: true,
        metrics: { mae: 6.1 },
        trainedAt: 2_000,
        runId: null,
      },
      {
        model: 'eta',
        version: '1',
        champion: false,
        metrics: { mae: 9.5, rmse: 12 },
        trainedAt: 1_000,
        runId: null,
      },
    ]);
  });

  it('reads a model holding its versions, and a champion named beside them', () => {
    const rows = parseModels({
      items: [
        {
          name: 'eta',
          champion: { version: '3' },
          versions: [
            { version: '3', mae: 4, createdAt: '2026-12-05T10:00:00Z', mlflowRunId: 'run-3' },
            { version: '2', mae: 5, createdAt: '2026-12-04T10:00:00Z' },
          ],
        },
      ],
    });
    expect(rows.map((r) => [r.model, r.version, r.champion, r.metrics.mae, r.runId])).toEqual([
      ['eta', '3', true, 4, 'run-3'],
      ['eta', '2', false, 5, null],
    ]);
  });

  it('is empty for an answer without versions', () => {
    expect(parseModels({})).toEqual([]);
    expect(parseModels(null)).toEqual([]);
  });
});
