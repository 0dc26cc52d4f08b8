import type { FastifyInstance } from 'fastify';
import { deleteEvent } from '../../handlers/delete-event.ts';
import { type IngestDeps, ingestEvents } from '../../handlers/ingest.ts';
import type { RouteContext } from '../context.ts';
import { errorResponses, eventBodySchema, eventIdSchema } from '../schemas.ts';

/**
 * `POST /v1/events`: the Event API. Kept lean: one schema check, one parse, one log append.
 * `DELETE /v1/events/{id}`: retracts an event (one idempotency look-up, one log append).
 */
export async function eventRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const deps: IngestDeps = { log: ctx.ports.log, clock: ctx.clock };
  app.post(
    '/v1/events',
    {
      onRequest: ctx.auth.apiKeyAuth,
      schema: {
        tags: ['server'],
        summary: 'Accept an author event for fan-out',
        description:
          'Answers 202 only once the event is durable in the event log. The same `id` again answers the same `eventId` and fans out nothing new.',
        security: [{ apiKey: [] }],
        body: eventBodySchema,
        response: {
          202: {
            type: 'object',
            required: ['eventId'],
            properties: { eventId: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const [result] = await ingestEvents(request.tenantId, [request.body], deps);
      reply.code(202);
      return { eventId: result?.eventId };
    },
  );
  app.delete<{ Params: { id: string } }>(
    '/v1/events/:id',
    {
      onRequest: ctx.auth.apiKeyAuth,
      schema: {
        tags: ['server'],
        summary: 'Retract an event: its notifications disappear, its unsent deliveries are not sent',
        description:
          "Answers 202 once the retraction is durable in the event log, behind the event itself (same author, same shard); fan-out then removes the event's rows from every inbox it reached (a celebrity's pointer and the rows copied from it), takes its actor out of aggregated items, and records a tombstone so its queued push and email jobs are audited `retracted` instead of sent, and the event writes nothing should it arrive later. 404 for an id this tenant never sent (in the AWS mode also for one sent more than 7 days ago: the log remembers ids that long). Idempotent: a second DELETE is a 202 that changes nothing.",
        security: [{ apiKey: [] }],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: eventIdSchema },
        },
        response: {
          202: {
            type: 'object',
            required: ['eventId', 'retracted'],
            properties: {
              eventId: { type: 'string' },
              retracted: {
                type: 'boolean',
                description: 'True for the first deletion of the event, false for a repeat (nothing new).',
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const result = await deleteEvent(request.tenantId, request.params.id, deps);
      reply.code(202);
      return { eventId: result.eventId, retracted: result.fresh };
    },
  );
}
