import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseCapDefaults } from '../src/domain/frequency-cap.ts';
import { provisionedCapacityFromContext } from './constructs/data.ts';
import { PushDelivery } from './constructs/direct-push.ts';
import { ApnsPlatform } from './constructs/transport.ts';
import { FanoutStack, type FanoutStackProps } from './stack.ts';

/**
 * The CDK app: `npm run synth` (or `npx cdk synth`, see cdk.json) writes the templates and the
 * bundled functions to `cdk.out/`, offline (local esbuild, no Docker, no AWS call). Settings come
 * from context (`-c key=value` or cdk.json):
 *
 * - `stackName` (default `Fanout`), `account`, `region` (default the CLI's environment, else
 *   us-east-1: Global Tables need a concrete region);
 * - `tablePrefix`, `replicaRegions` (JSON list or comma-separated), `replicaKeyArns` (JSON map);
 * - `kinesisShards` (unset: on-demand), `cacheMode` (`serverless` | `nodes`), `natGateways`;
 * - `auditRetentionDays`, `alarmEmail`, `sesIdentity`, `sesFrom`, `publicBaseUrl`;
 * - `apiRateLimit`, `apiBurstLimit`, `fanoutReservedConcurrency`;
 * - push (names of Secrets Manager secrets, never the credentials): `apnsSecret` with `apnsKeyId`,
 *   `apnsTeamId`, `apnsBundleId` and `apnsSandbox` (true for development builds); `fcmSecret`;
 *   `pushCredentialsRevision` (change it after rotating a secret); `pushDelivery` (`sns`, the
 *   default, or `direct`: APNs / FCM straight from the push consumer, with one NAT gateway);
 *   `pushProvidersSecret` (a push providers document for per-tenant apps, docs/push.md);
 *   `webPushVapidSecret` (the Web Push VAPID keys as JSON, docs/push.md);
 * - `frequencyCaps`: the tenants' default push frequency caps (JSON, docs/configuration.md), and
 *   `frequencyCapStore` (`memorydb`, the default, or `dynamodb`): where their counters live;
 * - `unreadMode` (`counter`, the default, or `gsi`): how the inbox counts unread notifications;
 * - `tableBilling` (`onDemand`, the default, or `provisioned`): with `provisioned`, the tables of
 *   `provisionedTables` (default `inbox,events`) get provisioned capacity with auto scaling at
 *   `capacityTargetUtilization` percent (default 70) between `minWriteCapacity` /
 *   `maxWriteCapacity` and `minReadCapacity` / `maxReadCapacity` (defaults 5 and 40,000);
 * - `consumerMemorySize` (MB, default 1024) and `deliveryBatchSize` (default 10 messages) of the
 *   push and email consumers (docs/deploy.md, the lowest-cost configuration), and `jobsPerMessage`
 *   (default 10): delivery jobs packed into one SQS message;
 * - `nag` (default true): run the AWS Solutions checks of cdk-nag; any unacknowledged finding
 *   fails the synthesis.
 */
// Run by the CDK CLI, the context of cdk.json arrives through the environment; run by plain
// `node` (npm run synth), it is read here. Either way `-c` values and the CLI win.
const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
  context?: Record<string, unknown>;
};
const app = new App({ outdir: process.env.CDK_OUTDIR ?? 'cdk.out', context: cdkJson.context ?? {} });

const context = (key: string): unknown => app.node.tryGetContext(key);
const text = (key: string): string | undefined => {
  const value = context(key);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};
const integer = (key: string): number | undefined => {
  const value = text(key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`context ${key} must be a non-negative integer, got ${value}`);
  return n;
};
const list = (key: string): string[] => {
  const value = context(key);
  if (Array.isArray(value)) return value.map(String);
  const raw = text(key);
  if (raw === undefined) return [];
  if (raw.startsWith('[')) return (JSON.parse(raw) as unknown[]).map(String);
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
};
const map = (key: string): Record<string, string> => {
  const value = context(key);
  if (value !== null && typeof value === 'object') return value as Record<string, string>;
  const raw = text(key);
  return raw === undefined ? {} : (JSON.parse(raw) as Record<string, string>);
};

const cacheMode = text('cacheMode') ?? 'serverless';
if (cacheMode !== 'serverless' && cacheMode !== 'nodes') {
  throw new Error(`context cacheMode must be 'serverless' or 'nodes', got ${cacheMode}`);
}
const account = text('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
// DynamoDB Global Tables (TableV2 with a customer-managed key) need a concrete region at synthesis;
// offline, with no CLI profile to say, the stack is synthesised for us-east-1.
const region = text('region') ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1';

const props: FanoutStackProps = {
  ...(account === undefined && region === undefined
    ? {}
    : {
        env: { ...(account === undefined ? {} : { account }), ...(region === undefined ? {} : { region }) },
      }),
  ...optional('tablePrefix', text('tablePrefix')),
  replicaRegions: list('replicaRegions'),
  replicaKeyArns: map('replicaKeyArns'),
  ...optional('kinesisShards', integer('kinesisShards')),
  cacheMode,
  ...optional('auditRetentionDays', integer('auditRetentionDays')),
  ...optional('alarmEmail', text('alarmEmail')),
  ...optional('sesIdentity', text('sesIdentity')),
  ...optional('sesFrom', text('sesFrom')),
  ...optional('publicBaseUrl', text('publicBaseUrl')),
  ...optional('natGateways', integer('natGateways')),
  ...optional('apiRateLimit', integer('apiRateLimit')),
  ...optional('apiBurstLimit', integer('apiBurstLimit')),
  ...optional('fanoutReservedConcurrency', integer('fanoutReservedConcurrency')),
  ...optional('push', pushFromContext()),
  ...optional('pushDelivery', pushDelivery()),
  ...optional('pushProvidersSecret', text('pushProvidersSecret')),
  ...optional('webPushVapidSecret', text('webPushVapidSecret')),
  ...optional('frequencyCaps', capDefaults()),
  ...optional('frequencyCapStore', frequencyCapStore()),
  ...optional('unreadMode', unreadMode()),
  ...optional('tableCapacity', provisionedCapacityFromContext(text)),
  ...optional('consumerMemorySize', integer('consumerMemorySize')),
  ...optional('deliveryBatchSize', integer('deliveryBatchSize')),
  ...optional('jobsPerMessage', integer('jobsPerMessage')),
};

new FanoutStack(app, text('stackName') ?? 'Fanout', props);

const nag = context('nag');
if (nag !== false && nag !== 'false') {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
}

app.synth();

/** The tenants' default frequency caps, checked as the push consumer will read them. */
function capDefaults(): FanoutStackProps['frequencyCaps'] {
  const value = context('frequencyCaps');
  if (value === undefined || value === null || value === '') return undefined;
  return parseCapDefaults(typeof value === 'string' ? value : JSON.stringify(value));
}

/** `memorydb` (the default) or `dynamodb`. */
function frequencyCapStore(): FanoutStackProps['frequencyCapStore'] {
  const value = text('frequencyCapStore');
  if (value === undefined || value === 'memorydb' || value === 'dynamodb') return value;
  throw new Error(`context frequencyCapStore must be 'memorydb' or 'dynamodb', got ${value}`);
}

/** `counter` (the default) or `gsi`. */
function unreadMode(): FanoutStackProps['unreadMode'] {
  const value = text('unreadMode');
  if (value === undefined || value === 'counter' || value === 'gsi') return value;
  throw new Error(`context unreadMode must be 'counter' or 'gsi', got ${value}`);
}

/** The SNS platform applications asked for in context; undefined when neither is. */
function pushFromContext(): FanoutStackProps['push'] {
  const apnsSecret = text('apnsSecret');
  const fcmSecret = text('fcmSecret');
  if (apnsSecret === undefined && fcmSecret === undefined) return undefined;
  const required = (key: string): string => {
    const value = text(key);
    if (value === undefined) throw new Error(`context ${key} is required with apnsSecret`);
    return value;
  };
  const sandbox = text('apnsSandbox') === 'true';
  return {
    ...(apnsSecret === undefined
      ? {}
      : {
          apns: {
            signingKey: apnsSecret,
            keyId: required('apnsKeyId'),
            teamId: required('apnsTeamId'),
            bundleId: required('apnsBundleId'),
            platform: sandbox ? ApnsPlatform.Sandbox : ApnsPlatform.Production,
          },
        }),
    ...(fcmSecret === undefined ? {} : { fcm: { serviceAccount: fcmSecret } }),
    ...optional('credentialsRevision', text('pushCredentialsRevision')),
  };
}

/** `sns` (the default) or `direct`. */
function pushDelivery(): PushDelivery | undefined {
  const value = text('pushDelivery');
  if (value === undefined) return undefined;
  if (value !== PushDelivery.Sns && value !== PushDelivery.Direct) {
    throw new Error(`context pushDelivery must be 'sns' or 'direct', got ${value}`);
  }
  return value;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
