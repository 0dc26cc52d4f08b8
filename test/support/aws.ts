import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { inject } from 'vitest';
import { createTables } from '../../src/adapters/aws/create-tables.ts';
import { redisReady } from '../../src/adapters/aws/dedup-store.ts';
import { type TableName, type TableNames, tableNames } from '../../src/adapters/aws/tables.ts';
import { type AwsClients, createAwsClients, createRedis } from '../../src/runtime/aws-clients.ts';
import type { EmulatorEndpoints } from '../../src/runtime/local-aws/emulators.ts';

/** The emulators this test run started (see aws-emulators.global.ts). */
export function emulatorEndpoints(): EmulatorEndpoints {
  return inject('awsEndpoints');
}

/** SDK clients pointed at the emulators. Firehose and SNS have none: mock those per test. */
export function emulatorClients(): AwsClients {
  const e = emulatorEndpoints();
  return createAwsClients({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoints: { dynamodb: e.dynamodb, kinesis: e.kinesis, sqs: e.sqs, s3: e.sqs, ses: e.ses },
  });
}

/** The moto_server this test run started (SNS platform endpoints, Firehose into S3, Secrets Manager). */
export function motoEndpoint(): string {
  return inject('motoEndpoint');
}

/** Region and credentials of every client pointed at an emulator. */
export const EMULATOR_CLIENT = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

/** A name no other test uses, so test files share the emulators without sharing state. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Fresh tables (only the ones asked for) under a unique prefix. */
export async function freshTables(clients: AwsClients, only: readonly TableName[]): Promise<TableNames> {
  const names = tableNames(uniqueName('t'));
  await createTables(clients.dynamodb, names, only);
  return names;
}

/** A Redis connection to the test Redis. Tests isolate by a unique key prefix, never FLUSHALL. */
export function emulatorRedis(): Redis {
  return createRedis({ url: emulatorEndpoints().redis });
}

/** A connected client of the test Redis. */
export async function readyRedis(): Promise<Redis> {
  const redis = emulatorRedis();
  await redisReady(redis, 10_000);
  return redis;
}

/** Quits politely when connected; a client that never connected or was cut is just dropped. */
export async function closeRedis(redis: Redis): Promise<void> {
  // A client cut by disconnect() still reads 'ready' until its socket has closed.
  await redis.quit().catch(() => redis.disconnect());
}
