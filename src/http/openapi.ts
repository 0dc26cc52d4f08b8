import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * The OpenAPI document, built from the routes' own schemas, at `/openapi.json`, and a browsable
 * reference at `/docs`. Swagger UI's files are served from its package: nothing is fetched from
 * elsewhere at run time. Register before the routes: the document collects them as they are added.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Fanout API',
        version: '1',
        description:
          'Server-to-server routes take a tenant API key; end-user routes (/v1/me/...) take a user token from POST /v1/users/{userId}/tokens. Every 4xx and 5xx body is {error: {code, message}}.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'Tenant API key (fanout tenant create)' },
          userToken: { type: 'http', scheme: 'bearer', description: 'User token' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
