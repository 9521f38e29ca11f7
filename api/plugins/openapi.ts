// OpenAPI 3 generated from the routes' zod schemas (@fastify/swagger), served at /docs/json
// (and /docs/yaml) with Swagger UI at /docs. Nothing is written by hand, so it cannot drift.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { API_KEY_HEADER } from './api-key-auth.ts';

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Continuum API',
        description:
          'The Unified Shipment State of every shipment (lookups, lists, the map, live changes), telemetry ingestion and topic replays. Errors are application/problem+json with a stable `code`. Write and operations routes need an API key (header X-API-Key or Authorization: Bearer) with a scope: ingest, replay or admin; reads need scope read unless they come from loopback and CONTINUUM_API_ANONYMOUS_READS=loopback.',
        version: '1.0.0',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: API_KEY_HEADER },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      tags: [
        { name: 'shipments', description: 'the Unified Shipment State' },
        { name: 'vehicles', description: 'telemetry history' },
        { name: 'events', description: 'server-sent events of state changes' },
        { name: 'telemetry', description: 'ingestion' },
        { name: 'replays', description: 'offset resets, view rebuilds, dead-letter re-drives' },
        { name: 'operations', description: 'health, readiness, metrics' },
        { name: 'pipeline', description: 'the pipeline page: named Prometheus queries' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true },
    // The UI's own routes need no key and count against no one.
    uiHooks: {},
  });
}
