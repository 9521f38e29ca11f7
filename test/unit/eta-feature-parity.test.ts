// Training and serving cannot skew: one reading, seen as a training checkpoint by the join's
// checkpoint rule and as a live state by the join's state builder, gives the trainer and the
// join's model predictor the same features, bit for bit, and the same prediction. Here, not
// beside either side, because it crosses the folder rule on purpose: streams/ and ml/ both
// call schemas/eta-features.ts, and this checks they do.
import { etaFeatures } from '../../schemas/eta-features.ts';
import { predictMinutes } from '../../schemas/eta-model-evaluation.ts';
import type { EtaModel, Shipment, VehicleTelemetry } from '../../schemas/types.ts';
import { distanceOverSpeedBaseline } from '../../ml/baselines.ts';
import { checkpointFeatures, trainingRows } from '../../ml/features.ts';
import { gradientBoostedTrees } from '../../ml/models/gradient-boosted-trees.ts';
import { syntheticDeliveries } from '../../ml/synthetic-deliveries.ts';
import { InMemoryKeyValueStore } from '../../streams/runtime/state-store.ts';
import {
  BaselineEtaPredictor,
  type EtaPredictor,
  type EtaQuery,
} from '../../streams/join/eta-predictor.ts';
import { PublishedModelEtaPredictor } from '../../streams/join/published-model-predictor.ts';
import { checkpointAt } from '../../streams/join/trip-checkpoints.ts';
import { unifiedShipmentState } from '../../streams/join/unified-state.ts';

const PICKED_UP = Date.UTC(2026, 0, 5, 7, 12, 31);
const AT = PICKED_UP + 47 * 60_000 + 10_000;

const shipment: Shipment = {
  shipmentId: 'SHP-1',
  customerId: 'cust-0001',
  originId: 'depot-cgn',
  originLat: 50.9575,
  originLon: 6.9303,
  destinationId: 'site-0002-dtm',
  destinationLat: 51.503712,
  destinationLon: 7.481234,
  vehicleId: 'veh-001',
  status: 'IN_TRANSIT',
  weightKg: 800,
  promisedAt: AT + 3_600_000,
  createdAt: PICKED_UP - 3_600_000,
  updatedAt: PICKED_UP + 120_000,
  changeSeq: 4,
};

const reading: VehicleTelemetry = {
  eventId: 'e-1',
  vehicleId: 'veh-001',
  eventTime: AT,
  lat: 51.123457,
  lon: 7.200001,
  speed: 83.7,
  speedUnit: 'KMH',
  headingDeg: 31.5,
  fuelPct: 64.2,
  engineTemp: 91.3,
  temperatureUnit: 'CELSIUS',
  odometerKm: 123_456.78,
};
const ODOMETER_AT_PICKUP = 123_402.11;

/** The checkpoint the join records for the reading, labelled as on delivery. */
function trainingCheckpoint() {
  const checkpoint = checkpointAt(
    { vehicleId: 'veh-001', pickedUpAt: PICKED_UP, checkpoints: [] },
    reading,
    shipment,
    ODOMETER_AT_PICKUP,
    { checkpointIntervalMs: 5 * 60_000 },
  );
  if (!checkpoint) throw new Error('the reading makes no checkpoint');
  return { ...checkpoint, minutesToArrival: 33.5 };
}

/** The query the join's state builder hands its predictor for the same reading. */
function servingQuery(predictor: EtaPredictor = new BaselineEtaPredictor()): EtaQuery {
  let seen: EtaQuery | undefined;
  unifiedShipmentState(
    { row: shipment, commitLsn: 1, source: { topic: 'shipments.cdc', partition: 0, offset: 9 } },
    { telemetry: reading, source: { topic: 'telemetry.raw', partition: 0, offset: 99 } },
    { pickedUpAt: PICKED_UP, odometerAtPickupKm: ODOMETER_AT_PICKUP },
    {
      predict: (query) => {
        seen = query;
        return predictor.predict(query);
      },
    },
  );
  if (!seen) throw new Error('the join predicted nothing');
  return seen;
}

describe('ETA features: training and serving', () => {
  it('the trainer and the join compute the same features from the same reading', () => {
    const trained = checkpointFeatures(trainingCheckpoint());
    const served = etaFeatures(servingQuery());
    expect(served).toEqual(trained);
    // Not a vacuous match: the distances are real, rounded to metres on both sides.
    expect(trained.distanceRemainingKm).toBeGreaterThan(40);
    expect(Math.round(trained.distanceRemainingKm * 1000)).toBe(trained.distanceRemainingKm * 1000);
    expect(trained.distanceTravelledKm).toBe(54.67);
  });

  it('the join serves a published model with the prediction the trainer measured', () => {
    const { body } = gradientBoostedTrees({ trees: 20 }).train(
      trainingRows(syntheticDeliveries({ deliveries: 30 })),
    );
    const model: EtaModel = {
      ...body,
      modelName: 'eta',
      version: 5,
      metrics: {},
      mlflowRunId: null,
      trainedAt: 0,
      trainingExamples: 0,
      interval: null,
    };
    const store = new InMemoryKeyValueStore<string, EtaModel>('eta-models');
    store.restore({ key: 'eta', value: model });
    const predictor = new PublishedModelEtaPredictor(store, new BaselineEtaPredictor());
    const served = predictor.predict(servingQuery());
    const measured = predictMinutes(model, checkpointFeatures(trainingCheckpoint()));
    expect(served.modelVersion).toBe('eta-v5');
    expect(served.arrival).toBe(Math.round(AT + (measured ?? Number.NaN) * 60_000));
  });

  it("the trainer's distance ÷ speed baseline is the join's baseline-v1", () => {
    const served = new BaselineEtaPredictor().predict(servingQuery());
    const [row] = trainingRows([
      {
        shipmentId: 'SHP-1',
        vehicleId: 'veh-001',
        originId: shipment.originId,
        destinationId: shipment.destinationId,
        promisedAt: shipment.promisedAt,
        actualArrival: AT + 33.5 * 60_000,
        checkpoints: [trainingCheckpoint()],
      },
    ]);
    if (!row) throw new Error('no row');
    expect(served.arrival).toBe(Math.round(AT + distanceOverSpeedBaseline.predict(row) * 60_000));
  });
});
