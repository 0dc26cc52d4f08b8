import { FunctionKind } from './env.ts';
import { createHttpApiHandler } from './http-adapter.ts';
import { defaultDeps, type LambdaDeps } from './powertools.ts';

/**
 * The server-to-server API (tenant API keys): `POST /v1/events`, follows, devices, preferences,
 * user tokens. It serves the whole Fastify app; API Gateway routes only these paths here, so the
 * event API scales, throttles and alarms apart from the end users' inbox API.
 */
export const createEventApiHandler = (deps: LambdaDeps) => createHttpApiHandler(deps);

/** The entry point the CDK app points at (`event-api.handler`). */
export const handler = createEventApiHandler(defaultDeps(FunctionKind.EventApi));
