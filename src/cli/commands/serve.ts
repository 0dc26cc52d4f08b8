import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../http/app.ts';
import { rateOptions } from '../../http/rate-limit.ts';
import { makePrivateDir } from '../../lib/private-files.ts';
import { portInUse, systemErrorCode } from '../../lib/setup-error.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Ports } from '../../ports/ports.ts';
import type { RuntimeConfig } from '../../runtime/config.ts';
import {
  DataDirSecret,
  dataDirSecret,
  type EmbeddedPorts,
  openEmbeddedPorts,
} from '../../runtime/embedded.ts';
import { Housekeeper, type HousekeepingTask } from '../../runtime/housekeeping.ts';
import { InboxNotifier } from '../../runtime/inbox-notifier.ts';
import { jsonLogger } from '../../runtime/json-logger.ts';
import { localAwsPorts } from '../../runtime/local-aws/emulators.ts';
import { openLocalAws } from '../../runtime/local-aws/profile.ts';
import { Metrics, observePorts } from '../../runtime/metrics.ts';
import { Pipeline } from '../../runtime/pipeline.ts';
import { type CliIo, CONFIG_FLAGS, configFrom, configOptions, parse, signalExitCode } from '../args.ts';
import { localPipelineOptions } from '../demo/run.ts';
import { type PipelineThread, startPipelineThread } from '../pipeline-thread.ts';
import { step } from '../step.ts';
import { UsageError } from '../usage.ts';
import { createTenant } from './tenant.ts';

/** The tenant made on first start, so the service is usable at once. */
export const DEV_TENANT = 'dev';

export const SERVE_HELP = `Usage: fanout serve [options]     (also: fanout start, npm start)

Runs the service: the HTTP API, the notification center at /, the OpenAPI reference at /docs,
fan-out and delivery, until SIGINT or SIGTERM, then stops gracefully. On first start it creates
the tenant 'dev' and prints its API key (shown once).

Profiles: 'embedded' (default) keeps everything in one SQLite file, fan-out and delivery on a
thread of their own beside the API's; 'local-aws' (npm run start:local-aws) starts DynamoDB
Local, kinesalite, fauxqs, the SES emulator and uses Redis on 127.0.0.1:6379, and serves the same
API through the AWS adapters (docs/local-aws.md).

Options:
  --port N                     PORT (default 8080; 0 picks a free port)
  --host ADDR                  FANOUT_HOST (default 127.0.0.1)
  --data-dir DIR               FANOUT_DATA_DIR (default ./.fanout)
  --celebrity-threshold N      FANOUT_CELEBRITY_THRESHOLD (default 10000)
  --log-level LEVEL            FANOUT_LOG_LEVEL (default warn)
  --profile NAME               FANOUT_PROFILE: embedded | local-aws (default embedded)
  --unread-mode gsi|counter    FANOUT_UNREAD_MODE, local-aws only (default counter)
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
  const threaded = pipelineOnThread(config);
  const raw = await step(
    config.profile === 'embedded'
      ? `opening the data dir ${config.dataDir}`
      : 'starting the local-aws emulators',
    () => openServePorts(config, logger, config.pipeline && !threaded),
  );
  // The pipeline and the API write through the same observed ports (or, with the pipeline on its
  // own thread, that thread sends what it wrote here): every write counts in the metrics and wakes
  // the inbox streams of the users it concerns.
  const live = {
    notifier: new InboxNotifier(),
    metrics: new Metrics({ queues: raw.queues, clock: raw.clock }),
  };
  const ports = observePorts(raw, { metrics: live.metrics, changes: live.notifier });
  // One token secret for the API and the pipeline: unsubscribe links are signed by one and checked
  // by the other (a data dir of ':memory:' would otherwise draw a new random key for each).
  const keyed = {
    ...config,
    tokenSecret: config.tokenSecret ?? dataDirSecret(config.dataDir, DataDirSecret.Token),
  };
  const pipeline = threaded ? undefined : new Pipeline(ports, localPipelineOptions(keyed));
  const housekeeper = new Housekeeper({ tasks: ports.housekeeping, clock: ports.clock, logger });
  let thread: PipelineThread | undefined;
  let app: FastifyInstance | undefined;
  try {
    // The thread opens the data dir again, for itself: its failure to (say, an audit log it cannot
    // write) comes before the dev tenant's key is printed, as it would on one thread.
    if (threaded) {
      thread = await step('starting the pipeline', () =>
        startPipelineThread({ config: keyed, live: { changes: live.notifier, metrics: live.metrics } }),
      );
    }
    await step('creating the dev tenant', () => ensureDevTenant(ports, io));
    if (pipeline !== undefined && config.pipeline) {
      await step('starting the pipeline', () => pipeline.start());
      housekeeper.start();
    }
    const options = {
      ...appOptions(keyed),
      ...(config.devSignIn ? { devTenantId: DEV_TENANT } : {}),
      ...(raw.webPushPublicKey === undefined ? {} : { webPushPublicKey: raw.webPushPublicKey }),
    };
    const accessLog = config.accessLog ? jsonLogger('info', io.stderr) : undefined;
    const server = await step('building the HTTP API', () =>
      buildApp({ ports, clock: ports.clock, logger, options, live, ...(accessLog ? { accessLog } : {}) }),
    );
    app = server;
    await step(`listening on ${config.host}:${config.port}`, () => listen(server, config.host, config.port));
    const url = baseUrl(app, config.host);
    io.stdout(`listening on ${url}\nnotification center: ${url}/\nAPI reference: ${url}/docs\n`);
    if (!config.pipeline) io.stdout('pipeline off here: run `fanout work` on the same data dir\n');
    else io.stdout(deliveryLine(raw.transports));
    if (!io.signal.aborted) {
      // Until a signal, or until the pipeline thread dies: the API never runs without its pipeline.
      const stopped = new Promise((resolve) => io.signal.addEventListener('abort', resolve, { once: true }));
      await Promise.race([stopped, ...(thread ? [thread.failed] : [])]);
    }
  } finally {
    // In this order: no new requests, then no new work, then the stores.
    await app?.close();
    await housekeeper.stop();
    try {
      await thread?.stop();
    } finally {
      // A thread that failed while stopping still leaves the API's own stores to close.
      await pipeline?.stop();
      await ports.close();
    }
  }
  io.stderr('fanout: stopped\n');
  return signalExitCode(io.signal);
}

/**
 * Whether the pipeline runs on a worker thread of its own: on the embedded profile with a data
 * file, so the API and the pipeline each get a core (docs/architecture.md, "Threads"). A data dir
 * of ':memory:' cannot be shared by two connections, and the local-aws profile's pipeline mostly
 * waits on its emulators' sockets, so both keep the pipeline on the API's thread.
 */
export function pipelineOnThread(config: RuntimeConfig): boolean {
  return config.pipeline && config.profile === 'embedded' && config.dataDir !== ':memory:';
}

/** Listens, or says which port is taken and how to pick another. */
async function listen(app: FastifyInstance, host: string, port: number): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (err) {
    if (systemErrorCode(err) !== 'EADDRINUSE') throw err;
    throw portInUse(
      port,
      host,
      'the HTTP API',
      'stop the process that holds it (another fanout serve?) or pick another port: --port N or PORT=N (0 picks a free one)',
      err,
    );
  }
}

/** Where push and email go: the recording sinks, or the providers configured (docs/push.md). */
function deliveryLine(t: EmbeddedPorts['transports'] | undefined): string {
  if (t === undefined) return 'delivery: recorded (local-aws: push to the sink, email to the SES emulator)\n';
  const name = (p: string) => (p === 'record' ? 'recorded' : p);
  const tenants = t.tenants > 0 ? `, ${t.tenants} tenant(s) with providers of their own` : '';
  return `delivery: APNs ${name(t.apns)}, FCM ${name(t.fcm)}, Web Push ${name(t.webpush)}, email ${name(t.email)}${tenants}\n`;
}

/** The HTTP API's options from the runtime config. */
export function appOptions(config: RuntimeConfig) {
  return {
    tokenSecret: config.tokenSecret ?? dataDirSecret(config.dataDir, DataDirSecret.Token),
    tokenTtlSeconds: config.tokenTtlSeconds,
    bodyLimit: config.bodyLimit,
    operatorTenantId: config.opsTenant,
    server: config.server,
    streams: config.streams,
    corsOrigins: config.corsOrigins,
    ...rateOptions(config.requestRates),
    ...(config.delivery.webPushEndpointHosts === undefined
      ? {}
      : { webPushEndpointHosts: config.delivery.webPushEndpointHosts }),
    ...(config.trustProxy === undefined ? {} : { trustProxy: config.trustProxy }),
  };
}

/**
 * The ports of the configured profile. The local-aws profile starts its emulators on fixed ports
 * (docs/local-aws.md) and keeps its state only while they run; DynamoDB's TTL does the
 * housekeeping there, so it has no housekeeping tasks.
 */
async function openServePorts(
  config: RuntimeConfig,
  logger: Logger,
  delivers: boolean,
): Promise<
  Ports & {
    readonly housekeeping: readonly HousekeepingTask[];
    readonly transports?: EmbeddedPorts['transports'];
    readonly webPushPublicKey?: EmbeddedPorts['webPushPublicKey'];
  }
> {
  if (config.profile === 'embedded') return openEmbeddedPorts({ config, logger, delivers });
  if (!config.pipeline) throw new UsageError('FANOUT_PIPELINE=off is for the embedded profile only');
  // The data dir keeps the token and cursor secrets, so tokens outlive a restart.
  makePrivateDir(config.dataDir);
  const profile = await openLocalAws({
    shards: config.shards,
    celebrityThreshold: config.celebrityThreshold,
    tierHysteresis: config.tierHysteresis,
    cursorSecret: config.cursorSecret ?? dataDirSecret(config.dataDir, DataDirSecret.Cursor),
    unread: config.unreadMode,
    jobsPerMessage: config.jobsPerMessage,
    ports: localAwsPorts(config.localAwsPort),
    // Two profiles on other emulator ports share the one Redis: each keeps to its own keys.
    prefix: config.localAwsPort === 4700 ? 'fanout-local' : `fanout-local-${config.localAwsPort}`,
    logger,
  });
  return { ...profile.ports, housekeeping: [] };
}

async function ensureDevTenant(ports: Ports, io: CliIo): Promise<void> {
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
