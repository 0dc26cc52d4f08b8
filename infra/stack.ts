import {
  Annotations,
  ArnFormat,
  CfnOutput,
  Duration,
  Stack,
  type StackProps,
  Tags,
  Validations,
} from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { CapDefaults } from '../src/domain/frequency-cap.ts';
import { AUDIT_REPLICATION_RULE_ID, FanoutAudit } from './constructs/audit.ts';
import { type CacheMode, FanoutCaches } from './constructs/caches.ts';
import { FanoutData, type ProvisionedCapacity } from './constructs/data.ts';
import { FanoutDelivery } from './constructs/delivery.ts';
import { FanoutDirectPush, PushDelivery } from './constructs/direct-push.ts';
import { FanoutWorker } from './constructs/fanout-worker.ts';
import { FanoutIngest } from './constructs/ingest.ts';
import { FanoutInvalidation } from './constructs/invalidation.ts';
import { FanoutNetwork } from './constructs/network.ts';
import { FanoutOperations } from './constructs/operations.ts';
import { FanoutScheduledFunction } from './constructs/scheduled-function.ts';
import { FanoutTransport, type FanoutTransportProps } from './constructs/transport.ts';
import { grantAll } from './grants.ts';

export interface FanoutStackProps extends StackProps {
  /**
   * Prefix of the physical table names (`FANOUT_TABLE_PREFIX`).
   * @default 'fanout'
   */
  readonly tablePrefix?: string;
  /**
   * Global Table replica regions (context `replicaRegions`).
   * @default [] (single region)
   */
  readonly replicaRegions?: readonly string[];
  /**
   * Customer-managed KMS key ARN per replica region (context `replicaKeyArns`).
   * @default {}
   */
  readonly replicaKeyArns?: Readonly<Record<string, string>>;
  /**
   * Provisioned shards of the event stream (context `kinesisShards`).
   * @default on-demand
   */
  readonly kinesisShards?: number;
  /**
   * ElastiCache flavour (context `cacheMode`): 'serverless' or node-based ('nodes').
   * @default 'serverless'
   */
  readonly cacheMode?: 'serverless' | 'nodes';
  /**
   * Days audit records stay locked (context `auditRetentionDays`).
   * @default 365
   */
  readonly auditRetentionDays?: number;
  /**
   * Address subscribed to the alarms (context `alarmEmail`).
   * @default no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Domain SES sends from (context `sesIdentity`), verified by the stack.
   * @default none: email is not granted an identity and the email consumer cannot send
   */
  readonly sesIdentity?: string;
  /**
   * Sender address (context `sesFrom`), `FANOUT_SES_FROM`; without `sesIdentity` its domain must be
   * a verified SES identity already. The email consumer requires one of the two.
   * @default `notifications@<sesIdentity>`
   */
  readonly sesFrom?: string;
  /**
   * The tenants' default push frequency caps (context `frequencyCaps`, the JSON document of
   * docs/configuration.md), the push consumer's `FANOUT_FREQUENCY_CAPS`. The counters live on the
   * MemoryDB cluster the consumer already uses for dedup: no new resource or permission.
   * @default no caps (users' own caps still apply)
   */
  readonly frequencyCaps?: CapDefaults;
  /**
   * How the inbox counts unread notifications (context `unreadMode`), every function's
   * `FANOUT_UNREAD_MODE`: `counter` keeps an exact per-user counter on the user's state item (1
   * write unit per inbox row, an unread count of 4 read units at any inbox size); `gsi` counts
   * through the sparse `unread` index (2 write units per row, a count that grows with unread rows).
   * Both are exact. Changing it on a live table is not supported: the counter is not rebuilt from
   * the index (docs/deploy.md).
   * @default 'counter'
   */
  readonly unreadMode?: 'gsi' | 'counter';
  /**
   * Tables billed for provisioned capacity with auto scaling (context `tableBilling: provisioned`,
   * `provisionedTables`, `capacityTargetUtilization`, `minWriteCapacity`, `maxWriteCapacity`,
   * `minReadCapacity`, `maxReadCapacity`): part of the lowest-cost configuration (docs/deploy.md).
   * @default every table on-demand
   */
  readonly tableCapacity?: ProvisionedCapacity;
  /**
   * Memory of the push and email consumers, MB (context `consumerMemorySize`). Their invocations
   * mostly wait on the network, which Lambda bills by memory × duration: less memory is cheaper,
   * at a slower CPU share (docs/benchmarks.md, aws-cost).
   * @default 1024
   */
  readonly consumerMemorySize?: number;
  /**
   * Delivery jobs per consumer invocation (context `deliveryBatchSize`, 1–10,000), gathered for up
   * to the 1 s batching window: larger batches share one invocation's fixed waits (the provider
   * round, the Redis trips, the audit record) among more jobs.
   * @default 10
   */
  readonly deliveryBatchSize?: number;
  /**
   * Delivery jobs packed into one SQS message (context `jobsPerMessage`, 1–100): SQS requests per
   * job fall by this factor, and a consumer invocation takes up to `deliveryBatchSize` × this many.
   * @default 10
   */
  readonly jobsPerMessage?: number;
  /**
   * Where the push consumer keeps the frequency-cap counters (context `frequencyCapStore`): on
   * the MemoryDB cluster of the dedup store, or in the `frequencyCaps` table (read and PutItem
   * granted to the push consumer alone).
   * @default 'memorydb'
   */
  readonly frequencyCapStore?: 'memorydb' | 'dynamodb';
  /**
   * SNS platform applications (APNs, FCM) with their credentials' secrets.
   * @default none: no push
   */
  readonly push?: Pick<FanoutTransportProps, 'apns' | 'fcm' | 'credentialsRevision'>;
  /**
   * How `push` reaches Apple and Google (context `pushDelivery`): SNS platform applications, or
   * straight from the push consumer (APNs HTTP/2, FCM HTTP v1) with the same secrets, read at cold
   * start. Direct push needs a route to the internet: the VPC then gets one NAT gateway unless
   * `natGateways` says how many (0 is refused), and only the push consumer runs in subnets that
   * route to it (every other function stays isolated).
   * @default PushDelivery.Sns
   */
  readonly pushDelivery?: PushDelivery;
  /**
   * Secret with a push providers document (context `pushProvidersSecret`; docs/push.md): per-tenant
   * providers beside the default ones. Read by the push consumer at cold start.
   * @default none
   */
  readonly pushProvidersSecret?: string;
  /**
   * Secret with the Web Push VAPID keys, JSON `{publicKey, privateKey, subject}` (context
   * `webPushVapidSecret`; docs/push.md). Read by the push consumer at cold start; web push needs
   * `pushDelivery: direct` for its route out.
   * @default none
   */
  readonly webPushVapidSecret?: string;
  /**
   * Public URL of the API for List-Unsubscribe links (context `publicBaseUrl`).
   * @default unset
   */
  readonly publicBaseUrl?: string;
  /**
   * NAT gateways of the VPC (context `natGateways`); 0 keeps the functions on VPC endpoints only.
   * @default 0
   */
  readonly natGateways?: number;
  /**
   * Default-stage throttling of the HTTP API (context `apiRateLimit`, `apiBurstLimit`).
   * @default 1000 requests/s, burst 2000
   */
  readonly apiRateLimit?: number;
  /** @default 2000 */
  readonly apiBurstLimit?: number;
  /**
   * Reserved concurrency of the fan-out function (context `fanoutReservedConcurrency`).
   * @default none
   */
  readonly fanoutReservedConcurrency?: number;
  /**
   * Lifetime of user tokens issued by the event API.
   * @default 1 hour (the functions' default)
   */
  readonly tokenTtl?: Duration;
}

/**
 * Fanout on AWS: every box of the design as managed services and Lambda functions running the
 * same handlers as `fanout serve` (docs/architecture.md, "AWS mode"; docs/lambda.md). All grants
 * are made in `grantAll`; every function's environment is what docs/lambda.md lists.
 */
export class FanoutStack extends Stack {
  readonly data: FanoutData;
  readonly network: FanoutNetwork;
  readonly caches: FanoutCaches;
  readonly ingest: FanoutIngest;
  readonly worker: FanoutWorker;
  readonly delivery: FanoutDelivery;
  readonly invalidation: FanoutInvalidation;
  /** The scheduled audit of dead letters no consumer saw fail. */
  readonly deadLetterAudit: FanoutScheduledFunction;
  /** The scheduled sender of hourly and daily email digests. */
  readonly emailDigest: FanoutScheduledFunction;
  readonly transport: FanoutTransport;
  readonly audit: FanoutAudit;
  readonly operations: FanoutOperations;

  constructor(scope: Construct, id: string, props: FanoutStackProps = {}) {
    super(scope, id, props);
    Tags.of(this).add('Project', 'fanout');

    this.data = new FanoutData(this, 'Data', {
      ...(props.tablePrefix === undefined ? {} : { tablePrefix: props.tablePrefix }),
      replicaRegions: props.replicaRegions ?? [],
      replicaKeyArns: props.replicaKeyArns ?? {},
      ...(props.tableCapacity === undefined ? {} : { capacity: props.tableCapacity }),
    });
    const direct = props.pushDelivery === PushDelivery.Direct;
    if (direct && props.natGateways === 0) {
      throw new Error(
        'pushDelivery direct needs a NAT gateway to reach APNs and FCM: natGateways must be at least 1',
      );
    }
    // Web push leaves from the push consumer too: without direct delivery it would have no route out,
    // and every browser push would fail its way to the dead-letter queue.
    if (props.webPushVapidSecret !== undefined && !direct) {
      throw new Error(
        "webPushVapidSecret needs pushDelivery direct: web push goes from the push consumer to the browsers' push services",
      );
    }
    const natGateways = props.natGateways ?? (direct ? 1 : undefined);
    this.network = new FanoutNetwork(this, 'Network', {
      ...(natGateways === undefined ? {} : { natGateways }),
      // Direct push: only the push consumer gets a route to Apple and Google.
      ...(direct ? { egress: 'selected' as const } : {}),
    });
    const cacheMode: CacheMode = props.cacheMode === 'nodes' ? 'node-based' : 'serverless';
    this.caches = new FanoutCaches(this, 'Caches', {
      vpc: this.network.vpc,
      subnets: this.network.cacheSubnets,
      securityGroup: this.network.cacheSecurityGroup,
      mode: cacheMode,
    });
    this.audit = new FanoutAudit(this, 'Audit', {
      ...(props.auditRetentionDays === undefined ? {} : { retentionDays: props.auditRetentionDays }),
    });
    // Direct push keeps the credentials for the push consumer; SNS gets them for its applications.
    const { apns, fcm, ...pushRest } = props.push ?? {};
    const directPush =
      direct || props.pushProvidersSecret !== undefined || props.webPushVapidSecret !== undefined
        ? new FanoutDirectPush(this, 'DirectPush', {
            ...(direct && apns !== undefined ? { apns } : {}),
            ...(direct && fcm !== undefined ? { fcm } : {}),
            ...(props.pushProvidersSecret === undefined
              ? {}
              : { providersSecret: props.pushProvidersSecret }),
            ...(props.webPushVapidSecret === undefined
              ? {}
              : { webPushVapidSecret: props.webPushVapidSecret }),
          })
        : undefined;
    this.transport = new FanoutTransport(this, 'Transport', {
      ...pushRest,
      ...(direct ? {} : { ...(apns === undefined ? {} : { apns }), ...(fcm === undefined ? {} : { fcm }) }),
      ...(props.sesIdentity === undefined ? {} : { emailDomain: props.sesIdentity }),
    });

    // The HMAC keys of user tokens and inbox cursors, generated by Secrets Manager and given to the
    // two HTTP functions (and the token key to the authorizer) as dynamic references.
    const tokenSecret = this.#hmacSecret('TokenSecret', 'HMAC key of Fanout user tokens');
    const cursorSecret = this.#hmacSecret('CursorSecret', 'HMAC key of Fanout inbox cursors');
    // Unsubscribe links: signed by the email consumer, checked by the API. A key of its own, so the
    // email consumer never holds the one that mints user tokens.
    const unsubscribeSecret = this.#hmacSecret('UnsubscribeSecret', 'HMAC key of Fanout unsubscribe links');

    const vpcPlacement = {
      vpc: this.network.vpc,
      vpcSubnets: this.network.lambdaSubnets,
      securityGroups: [this.network.lambdaSecurityGroup],
    };
    // Names of infrastructure every function needs (docs/lambda.md); the event stream and the queue
    // URLs are added below, once the constructs that own them exist.
    const base: Record<string, string> = {
      FANOUT_TABLE_PREFIX: this.data.tablePrefix,
      FANOUT_UNREAD_MODE: props.unreadMode ?? 'counter',
      FANOUT_AUDIT_STREAM: this.audit.deliveryStreamName,
      ...this.caches.environment,
      ...(this.transport.apnsApplicationArn === undefined
        ? {}
        : { FANOUT_SNS_APNS_ARN: this.transport.apnsApplicationArn }),
      ...(this.transport.fcmApplicationArn === undefined
        ? {}
        : { FANOUT_SNS_FCM_ARN: this.transport.fcmApplicationArn }),
      ...(props.publicBaseUrl === undefined ? {} : { FANOUT_PUBLIC_BASE_URL: props.publicBaseUrl }),
    };

    this.ingest = new FanoutIngest(this, 'Ingest', {
      ...(props.kinesisShards === undefined ? {} : { shardCount: props.kinesisShards }),
      ...(props.apiRateLimit === undefined ? {} : { throttleRateLimit: props.apiRateLimit }),
      ...(props.apiBurstLimit === undefined ? {} : { throttleBurstLimit: props.apiBurstLimit }),
      apiEnvironment: {
        ...base,
        FANOUT_TOKEN_SECRET: tokenSecret.secretValue.unsafeUnwrap(),
        FANOUT_CURSOR_SECRET: cursorSecret.secretValue.unsafeUnwrap(),
        ...(props.tokenTtl === undefined ? {} : { FANOUT_TOKEN_TTL: String(props.tokenTtl.toSeconds()) }),
      },
      authorizerEnvironment: {
        FANOUT_TABLE_PREFIX: this.data.tablePrefix,
        FANOUT_TOKEN_SECRET: tokenSecret.secretValue.unsafeUnwrap(),
      },
      ...vpcPlacement,
    });
    const sesFrom =
      props.sesFrom ?? (props.sesIdentity === undefined ? undefined : `notifications@${props.sesIdentity}`);
    if (sesFrom === undefined) {
      // Deployable on purpose (push alone is a valid deployment), but never silently.
      Annotations.of(this).addWarningV2(
        'fanout:no-email-sender',
        'no email sender (context sesFrom or sesIdentity): every email delivery will be audited failed, reason email_not_configured',
      );
    }
    // The identity SES checks the sender against: the stack's domain, else the sender's own domain.
    const sesIdentityName = this.transport.emailIdentityName ?? sesFrom?.slice(sesFrom.lastIndexOf('@') + 1);
    const withStream = { ...base, FANOUT_EVENT_STREAM: this.ingest.stream.streamName };

    // What the email consumer and the digest sender need to send and sign unsubscribe links.
    const emailEnvironment: Record<string, string> = {
      ...(sesFrom === undefined ? {} : { FANOUT_SES_FROM: sesFrom }),
      FANOUT_SES_CONFIGURATION_SET: this.transport.configurationSetName,
      ...(props.publicBaseUrl === undefined
        ? {}
        : { FANOUT_UNSUBSCRIBE_SECRET: unsubscribeSecret.secretValue.unsafeUnwrap() }),
    };
    this.delivery = new FanoutDelivery(this, 'Delivery', {
      environment: withStream,
      ...(props.consumerMemorySize === undefined ? {} : { consumerMemorySize: props.consumerMemorySize }),
      ...(props.deliveryBatchSize === undefined ? {} : { batchSize: props.deliveryBatchSize }),
      ...(props.jobsPerMessage === undefined ? {} : { jobsPerMessage: props.jobsPerMessage }),
      ...(direct ? { channelSubnets: { push: this.network.egressSubnets } } : {}),
      channelEnvironment: {
        push: {
          ...directPush?.environment,
          ...(props.frequencyCaps === undefined
            ? {}
            : { FANOUT_FREQUENCY_CAPS: JSON.stringify(props.frequencyCaps) }),
          ...(props.frequencyCapStore === 'dynamodb' ? { FANOUT_FREQUENCY_CAPS_STORE: 'dynamodb' } : {}),
        },
        email: emailEnvironment,
      },
      ...vpcPlacement,
    });
    const full = { ...withStream, ...this.delivery.environment };
    this.worker = new FanoutWorker(this, 'Worker', {
      stream: this.ingest.stream,
      environment: full,
      ...(props.fanoutReservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.fanoutReservedConcurrency }),
      ...vpcPlacement,
    });
    this.invalidation = new FanoutInvalidation(this, 'Invalidation', {
      table: this.data.tables.preferences,
      environment: full,
      ...vpcPlacement,
    });
    this.deadLetterAudit = new FanoutScheduledFunction(this, 'DeadLetterAudit', {
      entry: 'dead-letter-audit',
      description: 'Fanout: audit the delivery dead-letter queues',
      environment: full,
      ...vpcPlacement,
    });
    this.emailDigest = new FanoutScheduledFunction(this, 'EmailDigest', {
      entry: 'email-digest',
      description: 'Fanout: send the email digests that are due',
      environment: { ...full, ...emailEnvironment },
      // A run sends up to a round of digests through SES.
      timeout: Duration.minutes(2),
      ...vpcPlacement,
    });
    // The browsers' key to subscribe with, served by the inbox API (GET /v1/me/webpush/vapid-public-key).
    if (directPush?.vapidPublicKey !== undefined) {
      this.ingest.inboxApi.addEnvironment('FANOUT_VAPID_PUBLIC_KEY', directPush.vapidPublicKey);
      // CloudFormation resolves the reference only when the function changes: a new
      // `pushCredentialsRevision` after rotating the VAPID secret makes it read the new key.
      this.ingest.inboxApi.addEnvironment(
        'FANOUT_VAPID_KEY_REVISION',
        props.push?.credentialsRevision ?? '1',
      );
    }
    // Only the inbox API serves /v1/unsubscribe, so only it checks the links.
    this.ingest.inboxApi.addEnvironment(
      'FANOUT_UNSUBSCRIBE_SECRET',
      unsubscribeSecret.secretValue.unsafeUnwrap(),
    );
    // The HTTP functions were made before the queues existed.
    for (const fn of [this.ingest.eventApi, this.ingest.inboxApi]) {
      for (const [name, value] of Object.entries(this.delivery.environment)) fn.addEnvironment(name, value);
    }

    grantAll(
      {
        eventApi: this.ingest.eventApi,
        inboxApi: this.ingest.inboxApi,
        authorizer: this.ingest.authorizer,
        fanout: this.worker.function,
        consumers: this.delivery.consumers,
        invalidation: this.invalidation.function,
        deadLetterAudit: this.deadLetterAudit.function,
        emailDigest: this.emailDigest.function,
      },
      {
        tables: this.data.tables,
        stream: this.ingest.stream,
        queues: this.delivery.queues,
        deadLetterQueues: this.delivery.deadLetterQueues,
        auditStream: this.audit.stream,
        ...(props.frequencyCapStore === undefined ? {} : { frequencyCapStore: props.frequencyCapStore }),
        ...(sesIdentityName === undefined
          ? {}
          : {
              ses: {
                identityArn: this.formatArn({
                  service: 'ses',
                  resource: 'identity',
                  resourceName: sesIdentityName,
                  arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
                }),
                configurationSetArn: this.transport.configurationSetArn,
              },
            }),
        pushSecrets: directPush?.secrets ?? [],
        platformApplicationArns: [this.transport.apnsApplicationArn, this.transport.fcmApplicationArn].filter(
          (arn): arn is string => arn !== undefined,
        ),
      },
    );
    this.operations = new FanoutOperations(this, 'Operations', {
      ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
      deadLetterQueues: {
        ...this.delivery.deadLetterQueues,
        'fanout-failures': this.worker.failureQueue,
        'preference-invalidation': this.invalidation.deadLetterQueue,
      },
      queues: this.delivery.queues,
      functions: {
        'event-api': this.ingest.eventApi,
        'inbox-api': this.ingest.inboxApi,
        authorizer: this.ingest.authorizer,
        fanout: this.worker.function,
        'push-consumer': this.delivery.consumers.push,
        'email-consumer': this.delivery.consumers.email,
        'preference-invalidation': this.invalidation.function,
        'dead-letter-audit': this.deadLetterAudit.function,
        'email-digest': this.emailDigest.function,
      },
      eventStream: this.ingest.stream,
      tables: this.data.tables,
      auditDeliveryStreamName: this.audit.deliveryStreamName,
      auditReplication: {
        sourceBucketName: this.audit.landingBucket.bucketName,
        destinationBucketName: this.audit.bucket.bucketName,
        ruleId: AUDIT_REPLICATION_RULE_ID,
      },
    });

    new CfnOutput(this, 'ApiUrl', { value: this.ingest.url, description: 'Fanout HTTP API' });
    new CfnOutput(this, 'EventStreamName', { value: this.ingest.stream.streamName });
    new CfnOutput(this, 'TablePrefix', { value: this.data.tablePrefix });
  }

  /** A generated 64-character HMAC key in Secrets Manager. */
  #hmacSecret(id: string, description: string): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, id, {
      description,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Both HMAC keys must be shared by every container of both API functions and reach them at deployment (docs/lambda.md, "Secrets"); a rotation outside a deployment would split them. Rotate by replacing the secret value and redeploying.',
    });
    return secret;
  }
}
