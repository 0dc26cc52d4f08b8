import type { FastifyInstance } from 'fastify';
import { type IngestDeps, ingestEvents } from '../../handlers/ingest.ts';
import type { RouteContext } from '../context.ts';
import { errorResponses, eventBodySchema } from '../schemas.ts';

/** `POST /v1/events`: the Event API. Kept lean: one schema check, one parse, one log append. */
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
}
