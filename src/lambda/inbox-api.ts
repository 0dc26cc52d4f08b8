import { FunctionKind } from './env.ts';
import { createHttpApiHandler } from './http-adapter.ts';
import { defaultDeps, type LambdaDeps } from './powertools.ts';

/**
 * The end users' API (user tokens): `GET /v1/me/inbox`, the unread count, read marks; and the
 * email unsubscribe links (`GET|POST /v1/unsubscribe`, whose signed token is the credential). It
 * serves the whole Fastify app; API Gateway routes only `/v1/me/*`, `/v1/unsubscribe` and the
 * static pages here. The live stream (`GET /v1/me/inbox/stream`) is answered 501: a buffered HTTP
 * API integration cannot stream.
 */
export const createInboxApiHandler = (deps: LambdaDeps) => createHttpApiHandler(deps);

/** The entry point the CDK app points at (`inbox-api.handler`). */
export const handler = createInboxApiHandler(defaultDeps(FunctionKind.InboxApi));
