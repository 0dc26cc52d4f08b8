import { randomBytes } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { FirehoseAuditSink } from '../adapters/aws/firehose-audit.ts';
import { SesEmailTransport } from '../adapters/aws/ses-email.ts';
import { ClosedError } from '../domain/errors.ts';
import type { Logger } from '../ports/logger.ts';
import type { Ports } from '../ports/ports.ts';
import type { EmailTransport } from '../ports/transports.ts';
import { createAwsClients, createRedis } from '../runtime/aws-clients.ts';
import { openAwsPorts } from '../runtime/aws-ports.ts';
import {
  configuresPush,
  lambdaPushTransport,
  loadPushProviders,
  secretsManagerReader,
} from '../runtime/push/lambda.ts';
import type { LambdaEnv } from './env.ts';

/** Builds every port of a function from its environment (AWS adapters in AWS, embedded ones in tests). */
export type PortsFactory = (env: LambdaEnv) => Promise<Ports>;

/**
 * The ports of this container, built on first use and shared by every later invocation: SDK
 * clients keep their sockets and Redis its connection across warm invocations, and a cold start
 * pays the set-up once. A failed build is forgotten, so the next invocation tries again (a Redis
 * node that was failing over at cold start does not poison the container for its lifetime).
 */
export function portsOnce(factory: PortsFactory, env: () => LambdaEnv): () => Promise<Ports> {
  let pending: Promise<Ports> | undefined;
  return () => {
    if (pending === undefined) {
      const building = Promise.resolve().then(() => factory(env()));
      pending = building;
      building.catch(() => {
        if (pending === building) pending = undefined;
      });
    }
    return pending;
  };
}

/** A transport a function was not configured for: it never sends, and says why. */
function unconfigured(what: string): { send(): Promise<never> } {
  return {
    send: async () => {
      throw new ClosedError(`${what} is not configured for this function`);
    },
  };
}

/**
 * The email transport of a deployment with no sender (context `sesFrom` / `sesIdentity` unset):
 * every email is refused for good, so the consumer audits it `failed` once and deletes the job,
 * and the `email_not_configured` reason says what to set. The address is kept.
 */
export const emailNotConfigured: EmailTransport = {
  send: async () => ({ status: 'rejected', reason: 'email_not_configured' }),
};

/**
 * The real factory: AWS adapters over the clients the Lambda role can reach, built once per
 * container. Push goes through SNS mobile push (endpoint ARNs cached on the device items) or
 * straight to APNs / FCM, per platform and tenant as configured (src/runtime/push/lambda.ts), email
 * through SES v2, audit records through Firehose to the Object Lock bucket.
 */
export function awsPortsFactory(logger: Logger): PortsFactory {
  return async (env) => {
    // Read before anything connects: a missing or bad secret fails the cold start with its name,
    // leaving nothing open behind it (portsOnce tries again on the next invocation).
    const providers = configuresPush(env) ? await readPushProviders(env) : undefined;
    const clients = createAwsClients({ region: env.region });
    const cacheRedis = createRedis({ url: env.redis.cacheUrl, cluster: env.redis.cluster });
    const dedupRedis = createRedis({ url: env.redis.dedupUrl, cluster: env.redis.cluster });
    const { from, configurationSet } = env.email;
    try {
      return openAwsPorts({
        clients,
        cacheRedis,
        dedupRedis,
        resources: {
          tables: env.tables,
          streamName: env.eventStream,
          queues: {
            push: { url: env.queues.push.queueUrl, deadLetterUrl: env.queues.push.deadLetterQueueUrl },
            email: { url: env.queues.email.queueUrl, deadLetterUrl: env.queues.email.deadLetterQueueUrl },
          },
        },
        celebrityThreshold: env.celebrityThreshold,
        tierHysteresis: env.tierHysteresis,
        unread: env.unreadMode,
        maxReceiveCount: env.maxReceiveCount,
        jobsPerMessage: env.jobsPerMessage,
        frequencyCapStore: env.frequencyCapStore,
        // Only the HTTP functions issue and read inbox cursors, and they must be given the shared
        // secret (readLambdaEnv requires it there). The pipeline functions never touch a cursor, yet
        // `Ports` carries a codec: a random key keeps them from needing the secret at all.
        cursorSecret: env.cursorSecret ?? randomBytes(32).toString('hex'),
        delivery: ({ devices }) => ({
          // A platform with no provider is rejected per push (`platform_not_configured`), device kept.
          push:
            providers === undefined
              ? unconfigured('push')
              : lambdaPushTransport({
                  providers,
                  ...(env.webPushEndpointHosts ? { webPushEndpointHosts: env.webPushEndpointHosts } : {}),
                  sns: clients.sns,
                  endpoints: {
                    get: (tenantId, token) => devices.endpointArn(tenantId, token),
                    set: async (tenantId, token, arn) => {
                      await devices.setEndpointArn(tenantId, token, arn);
                    },
                  },
                  logger,
                }),
          email:
            from !== undefined
              ? new SesEmailTransport({
                  ses: clients.ses,
                  from,
                  ...(configurationSet === undefined ? {} : { configurationSetName: configurationSet }),
                })
              : emailNotConfigured,
          audit: new FirehoseAuditSink({ firehose: clients.firehose, deliveryStreamName: env.auditStream }),
        }),
        logger,
      });
    } catch (err) {
      // A client refusing its settings (a signing key that is no EC key, say): the failed attempt
      // must not leave two Redis connections open per invocation until the container dies.
      cacheRedis.disconnect();
      dedupRedis.disconnect();
      clients.destroy();
      throw err;
    }
  };
}

/** The push providers document, from Secrets Manager; the client is released once read. */
async function readPushProviders(env: LambdaEnv) {
  const client = new SecretsManagerClient({ region: env.region });
  try {
    return await loadPushProviders(env, secretsManagerReader(client));
  } finally {
    client.destroy();
  }
}
