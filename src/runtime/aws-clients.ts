import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Redis } from 'ioredis';

/** Where each service answers; unset means AWS's own endpoint for the region. */
export interface AwsEndpoints {
  readonly dynamodb?: string;
  readonly kinesis?: string;
  readonly sqs?: string;
  readonly s3?: string;
  readonly ses?: string;
  readonly sns?: string;
  readonly firehose?: string;
}

export interface AwsClientOptions {
  readonly region: string;
  readonly endpoints?: AwsEndpoints;
  /** Static credentials for emulators; on AWS the Lambda role's come from the environment. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** One SDK client per service, built once per process (per Lambda container). */
export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  /** Marshalls plain objects; adapters use it for every item read and write. */
  readonly documents: DynamoDBDocumentClient;
  readonly dynamodbStreams: DynamoDBStreamsClient;
  readonly kinesis: KinesisClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly ses: SESv2Client;
  readonly sns: SNSClient;
  readonly firehose: FirehoseClient;
  destroy(): void;
}

export function createAwsClients(opts: AwsClientOptions): AwsClients {
  const base = {
    region: opts.region,
    ...(opts.credentials === undefined ? {} : { credentials: { ...opts.credentials } }),
    // Keep-alive sockets; the SDK's default socket pool is 50, enough for our batch sizes.
    requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 10_000 }),
  };
  const at = (endpoint: string | undefined) => (endpoint === undefined ? {} : { endpoint });
  const e = opts.endpoints ?? {};
  const dynamodb = new DynamoDBClient({ ...base, ...at(e.dynamodb) });
  const documents = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const clients = {
    dynamodb,
    documents,
    dynamodbStreams: new DynamoDBStreamsClient({ ...base, ...at(e.dynamodb) }),
    // The Kinesis client defaults to an HTTP/2 handler, which kinesalite does not speak; HTTP/1.1
    // serves every call we make on AWS too (we never use SubscribeToShard).
    kinesis: new KinesisClient({ ...base, ...at(e.kinesis) }),
    sqs: new SQSClient({ ...base, ...at(e.sqs) }),
    s3: new S3Client({ ...base, ...at(e.s3), forcePathStyle: e.s3 !== undefined }),
    // No SDK retries for sends: a timed-out Publish or SendEmail retried inside the SDK is a second
    // send the pipeline never hears of. The consumer retries instead, as a flagged ambiguous send.
    ses: new SESv2Client({ ...base, ...at(e.ses), maxAttempts: 1 }),
    sns: new SNSClient({ ...base, ...at(e.sns), maxAttempts: 1 }),
    firehose: new FirehoseClient({ ...base, ...at(e.firehose) }),
  };
  return {
    ...clients,
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

export interface RedisOptions {
  /** redis://host:port or rediss:// for TLS (ElastiCache, MemoryDB in transit encryption). */
  readonly url: string;
  /** Cluster mode (MemoryDB and cluster-mode ElastiCache): keys carry hash tags for this. */
  readonly cluster?: boolean;
}

/**
 * A Redis client that fails fast instead of queueing commands while disconnected: the dedup store
 * must fail closed at once, and the caches fall back to DynamoDB.
 */
export function createRedis(opts: RedisOptions): Redis {
  const url = new URL(opts.url);
  const tls = url.protocol === 'rediss:' ? {} : undefined;
  const common = {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    tls,
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
  };
  if (opts.cluster) {
    // A Cluster is not a Redis subclass, but serves every command our adapters send.
    return new Redis.Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
      redisOptions: common,
      dnsLookup: (address, callback) => callback(null, address),
      enableOfflineQueue: false,
    }) as unknown as Redis;
  }
  return new Redis({ host: url.hostname, port: Number(url.port || 6379), ...common });
}
