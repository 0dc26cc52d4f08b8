import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../http/app.ts';
import { tokenSecretOf } from '../../http/user-tokens.ts';
import type { RuntimeConfig } from '../../runtime/config.ts';
import { type EmbeddedPorts, openEmbeddedPorts } from '../../runtime/embedded.ts';
import { Housekeeper } from '../../runtime/housekeeping.ts';
import { InboxNotifier } from '../../runtime/inbox-notifier.ts';
import { jsonLogger } from '../../runtime/json-logger.ts';
import { Metrics, observePorts } from '../../runtime/metrics.ts';
import { Pipeline } from '../../runtime/pipeline.ts';
import { type CliIo, CONFIG_FLAGS, configFrom, configOptions, parse, signalExitCode } from '../args.ts';
import { localPipelineOptions } from '../demo/run.ts';
import { createTenant } from './tenant.ts';

/** The tenant made on first start, so the service is usable at once. */
export const DEV_TENANT = 'dev';

export const SERVE_HELP = `Usage: fanout serve [options]     (also: fanout start, npm start)

Runs the service on the embedded profile: the HTTP API, the notification center at /, the
OpenAPI reference at /docs, fan-out and delivery, until SIGINT or SIGTERM, then stops
gracefully. On first start it creates the tenant 'dev' and prints its API key (shown once).

Options:
  --port N                     PORT (default 8080; 0 picks a free port)
  --host ADDR                  FANOUT_HOST (default 127.0.0.1)
  --data-dir DIR               FANOUT_DATA_DIR (default ./.fanout)
  --celebrity-threshold N      FANOUT_CELEBRITY_THRESHOLD (default 10000)
  --log-level LEVEL            FANOUT_LOG_LEVEL (default warn)
  -h, --help                   show this help

Every other setting (token secret and lifetime, rate limit, body limit, delivery knobs) is an
environment variable: see docs/configuration.md.
`;

const OPTIONS = {
  ...configOptions(Object.keys(CONFIG_FLAGS)),
  port: { type: 'string' },
  host: { type: 'string' },
} as const;

/** `fanout serve`: the whole service in one process. */
export async function serveCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, OPTIONS);
  if (values.help) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  const env = {
    ...io.env,
    ...(typeof values.port === 'string' ? { PORT: values.port } : {}),
    ...(typeof values.host === 'string' ? { FANOUT_HOST: values.host } : {}),
  };
  const config = configFrom(values, env);
  const logger = jsonLogger(config.logLevel, io.stderr);
  const raw = await openEmbeddedPorts({ config, logger, delivers: config.pipeline });
  // The pipeline and the API write through the same observed ports: every write counts in the
  // metrics and wakes the inbox streams of the users it concerns.
  const live = {
    notifier: new InboxNotifier(),
    metrics: new Metrics({ queues: raw.queues, clock: raw.clock }),
  };
  const ports = observePorts(raw, { metrics: live.metrics, changes: live.notifier });
  const pipeline = new Pipeline(ports, localPipelineOptions(config));
  const housekeeper = new Housekeeper({ tasks: ports.housekeeping, clock: ports.clock, logger });
  let app: FastifyInstance | undefined;
  try {
    await ensureDevTenant(ports, io);
    if (config.pipeline) {
      await pipeline.start();
      housekeeper.start();
    }
    const options = { ...appOptions(config), ...(config.devSignIn ? { devTenantId: DEV_TENANT } : {}) };
    app = await buildApp({ ports, clock: ports.clock, logger, options, live });
    await app.listen({ host: config.host, port: config.port });
    const url = baseUrl(app, config.host);
    io.stdout(`listening on ${url}\nnotification center: ${url}/\nAPI reference: ${url}/docs\n`);
    if (!config.pipeline) io.stdout('pipeline off here: run `fanout work` on the same data dir\n');
    if (!io.signal.aborted) {
      await new Promise((resolve) => io.signal.addEventListener('abort', resolve, { once: true }));
    }
  } finally {
    // In this order: no new requests, then no new work, then the stores.
    await app?.close();
    await housekeeper.stop();
    await pipeline.stop();
    await ports.close();
  }
  io.stderr('fanout: stopped\n');
  return signalExitCode(io.signal);
}

/** The HTTP API's options from the runtime config. */
export function appOptions(config: RuntimeConfig) {
  return {
    tokenSecret: config.tokenSecret ?? tokenSecretOf(config.dataDir),
    tokenTtlSeconds: config.tokenTtlSeconds,
    bodyLimit: config.bodyLimit,
    operatorTenantId: config.opsTenant,
    ...(config.rateLimit > 0 ? { rateLimit: { perSecond: config.rateLimit, burst: config.rateBurst } } : {}),
  };
}

async function ensureDevTenant(ports: EmbeddedPorts, io: CliIo): Promise<void> {
  if ((await ports.tenants.get(DEV_TENANT)) !== undefined) {
    io.stdout(`tenant ${DEV_TENANT} exists; its API key was printed at first start\n`);
    return;
  }
  const { apiKey } = await createTenant(ports.tenants, DEV_TENANT, ports.clock.now());
  io.stdout(`tenant ${DEV_TENANT} created; its API key (shown once): ${apiKey}\n`);
}

function baseUrl(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
