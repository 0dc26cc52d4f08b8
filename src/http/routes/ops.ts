import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorName } from '../../lib/error-name.ts';
import { type Logger, silentLogger } from '../../ports/logger.ts';
import type { Metrics } from '../../runtime/metrics.ts';
import { MetricsHistory } from '../../runtime/metrics-history.ts';
import type { Auth } from '../auth.ts';
import { ApiError, ApiErrorCode } from '../errors.ts';
import { errorResponses } from '../schemas.ts';
import { openEventStream, responseSink } from '../sse.ts';

export interface OpsRoutesOptions {
  readonly metrics: Metrics;
  readonly auth: Pick<Auth, 'apiKeyAuth'>;
  /** The tenant whose API keys operate this process (see FANOUT_OPS_TENANT). @default 'dev' */
  readonly operatorTenantId?: string;
  readonly logger?: Logger;
  /** Time between two snapshots on `/v1/ops/stream`. @default 1000 */
  readonly intervalMs?: number;
  /**
   * Seconds of snapshots kept (one a second from the app's start) and sent as one `history` event
   * when a stream opens, so the charts start filled; 0 keeps none (a Lambda has no use for a
   * sampler between invocations). @default 300
   */
  readonly historySeconds?: number;
}

/**
 * The operator's data: `GET /v1/ops/metrics` (one snapshot, JSON) and `GET /v1/ops/stream` (first
 * the last minutes of snapshots as one `history` event, then a snapshot per second as server-sent
 * `metrics` events). The page itself is `GET /ops` (see
 * `webRoutes`).
 *
 * The numbers are the whole process's, across tenants (queue depths are not per tenant), so only
 * an API key of the operator's tenant opens them (`dev` by default, the tenant `fanout serve`
 * makes on first start); any other tenant's key gets 403 and learns nothing about the others.
 * The page reads the stream with `fetch`, so the key travels in the Authorization header and
 * never in a URL.
 */
export async function opsRoutes(app: FastifyInstance, opts: OpsRoutesOptions): Promise<void> {
  const logger = opts.logger ?? silentLogger;
  const intervalMs = opts.intervalMs ?? 1000;
  const streams = new Set<() => void>();
  const historySeconds = opts.historySeconds ?? 300;
  const history =
    historySeconds > 0
      ? new MetricsHistory({ metrics: opts.metrics, capacity: historySeconds, intervalMs, logger })
      : undefined;
  app.addHook('onReady', async () => history?.start());
  app.addHook('preClose', async () => {
    history?.stop();
    for (const stop of [...streams]) stop();
  });
  const operator = opts.operatorTenantId ?? 'dev';
  const onRequest = async (request: FastifyRequest) => {
    await opts.auth.apiKeyAuth(request);
    if (request.tenantId !== operator) {
      throw new ApiError(403, ApiErrorCode.Forbidden, "operations data takes the operator tenant's API key");
    }
  };

  const opsSchema = (summary: string, ok: object) => ({
    tags: ['operations'],
    summary,
    security: [{ apiKey: [] }],
    response: { 200: ok, ...errorResponses },
  });
  app.get(
    '/v1/ops/metrics',
    {
      onRequest,
      schema: opsSchema('Rates, delivery outcomes, queue depth and DLQ size, now', {
        type: 'object',
        additionalProperties: true,
      }),
    },
    async () => opts.metrics.snapshot(),
  );

  app.get(
    '/v1/ops/stream',
    {
      // A HEAD would open a stream that never ends.
      exposeHeadRoute: false,
      onRequest,
      schema: opsSchema(
        'The last minutes of metrics as one `history` event (an array, oldest first), then a `metrics` event a second',
        {
          description: 'text/event-stream',
          type: 'string',
        },
      ),
    },
    async (_request: FastifyRequest, reply: FastifyReply) => {
      const res = openEventStream(reply, intervalMs);
      const sink = responseSink(res);
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      const stop = () => {
        if (stopped) return;
        stopped = true;
        clearTimeout(timer);
        streams.delete(stop);
        sink.end();
      };
      // One snapshot at a time, the next timed from the end of the last: a slow store never piles reads up.
      const tick = async () => {
        try {
          const snapshot = await opts.metrics.snapshot();
          if (!stopped && !sink.write(`event: metrics\ndata: ${JSON.stringify(snapshot)}\n\n`)) stop();
        } catch (err) {
          logger.warn('ops metrics snapshot failed', { error: errorName(err) });
          if (!stopped && !sink.write(': metrics unavailable\n\n')) stop();
        }
        if (!stopped) timer = setTimeout(tick, intervalMs);
      };
      streams.add(stop);
      res.on('close', stop);
      const past = history?.samples() ?? [];
      if (past.length > 0 && !sink.write(`event: history\ndata: ${JSON.stringify(past)}\n\n`)) stop();
      void tick();
    },
  );
}
