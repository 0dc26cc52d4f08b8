import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreatePlatformEndpointCommand,
  EndpointDisabledException,
  GetEndpointAttributesCommand,
  InternalErrorException,
  PublishCommand,
  type PublishCommandInput,
  SNSClient,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { generateServiceAccount, startFakeFcm } from '../../../fakes/fake-fcm.ts';
import { InMemoryEndpointCache, SnsPushTransport } from '../../../src/adapters/aws/sns-push.ts';
import { EmbeddedDb } from '../../../src/adapters/embedded/db.ts';
import { RecordingPushTransport } from '../../../src/adapters/embedded/recording-transports.ts';
import { FcmTransport } from '../../../src/adapters/push/fcm/fcm-transport.ts';
import type { FcmMessage } from '../../../src/adapters/push/fcm/payload.ts';
import { parseServiceAccount } from '../../../src/adapters/push/fcm/service-account.ts';
import { TransportRetryableError } from '../../../src/domain/errors.ts';
import { targetDigest } from '../../../src/domain/keys.ts';
import type { Platform } from '../../../src/domain/types.ts';
import type { PushMessage } from '../../../src/ports/transports.ts';
import { RoutingPushTransport } from '../../../src/runtime/push/routing-transport.ts';
import type { PushTransportHarness, ReceivedPush } from '../../contracts/push-transport.contract.ts';
import { testClock } from '../../support/world.ts';
import { apnsBench, deviceToken, START } from './apns-fixture.ts';

/**
 * The PushTransport contract's harness of each adapter, against its provider: the recording sink,
 * the fake APNs and FCM servers, a mocked SNS. Retries never wait (injected sleep, tiny budgets).
 */

/** Three tries, waits of a few ms at most, and sleeps that return at once. */
const FAST_RETRIES = {
  backoff: { attempts: 3, baseMs: 1, maxMs: 2 },
  retryBudgetMs: 100,
  requestTimeoutMs: 2_000,
  connections: 1,
  sleep: async () => {},
} as const;

/**
 * The recording sink. Its provider is its table (digests and counts only), so `received` pairs
 * what its fault hook saw with the rows the sink wrote; the hook also gives the provider's answers.
 */
export async function recordingPushHarness(): Promise<PushTransportHarness> {
  const db = new EmbeddedDb({ path: ':memory:' });
  const seen: PushMessage[] = [];
  const dead = new Set<string>();
  let broken = false;
  const transport = new RecordingPushTransport({
    db,
    fault: (m) => {
      if (broken) return new TransportRetryableError('provider unavailable');
      if (dead.delete(m.token)) return { status: 'rejected', reason: 'Unregistered', deactivateDevice: true };
      seen.push(m);
      return undefined;
    },
  });
  return {
    transport,
    token: deviceToken,
    async received(token) {
      const out: ReceivedPush[] = [];
      for (const m of seen.filter((s) => s.token === token)) {
        const row = await transport.recorded(m.messageId).catch(() => undefined);
        if (row?.target !== targetDigest(token)) continue;
        out.push({ title: m.title, body: m.body, collapseId: m.collapseId, messageId: m.messageId });
      }
      return out;
    },
    requests: async () => (await transport.stats()).sends,
    killToken: async (token) => {
      dead.add(token);
    },
    breakProvider: async () => {
      broken = true;
    },
    close: async () => db.close(),
  };
}

/** ApnsTransport against its own fake APNs; unavailable means 503 ServiceUnavailable on every try. */
export async function apnsPushHarness(): Promise<PushTransportHarness> {
  const bench = await apnsBench();
  const transport = bench.transport(FAST_RETRIES);
  const issued: string[] = [];
  let broken = false;
  const unavailable = (token: string) =>
    bench.fake.script(
      token,
      ...Array.from({ length: 5 }, () => ({ status: 503, reason: 'ServiceUnavailable' })),
    );
  return {
    transport,
    token() {
      const token = deviceToken();
      issued.push(token);
      if (broken) unavailable(token);
      return token;
    },
    received: async (token) =>
      bench.requestsFor(token).map((r) => {
        const { title, body } = (r.payload as { aps: { alert: { title: string; body: string } } }).aps.alert;
        const id = r.headers['apns-id'];
        return {
          title,
          body,
          collapseId: r.headers['apns-collapse-id']!,
          ...(id === undefined ? {} : { messageId: id }),
        };
      }),
    requests: async () => bench.fake.requests.length,
    killToken: async (token) => {
      bench.fake.script(token, { status: 410, reason: 'Unregistered', timestamp: START - 60_000 });
    },
    breakProvider: async () => {
      broken = true;
      for (const token of issued) unavailable(token);
    },
    close: () => bench.close(),
  };
}

/** FcmTransport against its own fake FCM; unavailable means the server is gone (connection refused). */
export async function fcmPushHarness(): Promise<PushTransportHarness> {
  const clock = testClock(START);
  const fake = await startFakeFcm({ now: clock.now });
  const transport = new FcmTransport({
    serviceAccount: parseServiceAccount(generateServiceAccount(fake.origin).json),
    origin: fake.origin,
    ca: fake.ca,
    clock,
    ...FAST_RETRIES,
  });
  let up = true;
  return {
    transport,
    token: () => `fcm-${randomUUID()}`,
    received: async (token) =>
      fake.requests
        .filter((r) => r.token === token)
        .map((r) => {
          const m = (r.body as { message: FcmMessage }).message;
          return {
            title: m.notification?.title ?? '',
            body: m.notification?.body ?? '',
            collapseId: m.android.collapse_key,
            messageId: m.data.messageId!,
          };
        }),
    // The token endpoint counts too: a refused message must not even fetch an access token.
    requests: async () => fake.requests.length + fake.tokenGrants.length + fake.tokenRefusals.length,
    killToken: async (token) => {
      fake.script(token, { status: 404, errorCode: 'UNREGISTERED' });
    },
    breakProvider: async () => {
      up = false;
      await fake.close();
    },
    async close() {
      await transport.close();
      if (up) await fake.close();
    },
  };
}

const ACCOUNT = 'arn:aws:sns:us-east-1:123456789012';
const APPLICATIONS = { apns: `${ACCOUNT}:app/APNS/fanout`, fcm: `${ACCOUNT}:app/GCM/fanout` } as const;
const meta = (httpStatusCode: number) => ({
  $metadata: { httpStatusCode },
  $fault: httpStatusCode >= 500 ? ('server' as const) : ('client' as const),
});

/**
 * SnsPushTransport with one platform application (`platform`), over a mocked SNS client (SNS
 * has no emulator) that keeps an endpoint per token. Unavailable means a 500 on every call.
 */
export async function snsPushHarness(
  platform: typeof Platform.Apns | typeof Platform.Fcm,
): Promise<PushTransportHarness> {
  const sns = new SNSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  const mock = mockClient(sns);
  const endpointOf = (token: string | undefined) => `${ACCOUNT}:endpoint/${platform}/fanout/${token}`;
  const tokenOf = (arn: string | undefined) => arn?.slice(endpointOf('').length);
  const dead = new Set<string>();
  let broken = false;
  const down = () => new InternalErrorException({ ...meta(500), message: 'Internal error' });
  mock.on(CreatePlatformEndpointCommand).callsFake(async (input: { Token?: string }) => {
    if (broken) throw down();
    return { EndpointArn: endpointOf(input.Token) };
  });
  mock.on(GetEndpointAttributesCommand).callsFake(async (input: { EndpointArn?: string }) => {
    if (broken) throw down();
    return { Attributes: { Enabled: 'true', Token: tokenOf(input.EndpointArn) } };
  });
  mock.on(PublishCommand).callsFake(async (input: PublishCommandInput) => {
    if (broken) throw down();
    if (dead.delete(tokenOf(input.TargetArn) ?? '')) {
      throw new EndpointDisabledException({ ...meta(400), message: 'Endpoint is disabled' });
    }
    return { MessageId: randomUUID() };
  });
  const transport = new SnsPushTransport({
    sns,
    applicationArns: { [platform]: APPLICATIONS[platform] },
    endpoints: new InMemoryEndpointCache(),
  });
  return {
    transport,
    token: () => (platform === 'apns' ? deviceToken() : `fcm-${randomBytes(16).toString('hex')}`),
    received: async (token) =>
      mock
        .commandCalls(PublishCommand)
        .map((call) => call.args[0].input as PublishCommandInput)
        .filter((input) => tokenOf(input.TargetArn) === token)
        .map(snsReceived),
    requests: async () => mock.calls().length,
    killToken: async (token) => {
      dead.add(token);
    },
    breakProvider: async () => {
      broken = true;
    },
    close: async () => {
      mock.restore();
      sns.destroy();
    },
  };
}

/** A Publish as the device would see it: APNs shows the collapse id only, FCM both ids. */
function snsReceived(input: PublishCommandInput): ReceivedPush {
  const message = JSON.parse(input.Message!) as Record<string, string>;
  if (message.GCM !== undefined) {
    const m = (JSON.parse(message.GCM) as { fcmV1Message: { message: FcmMessage } }).fcmV1Message.message;
    const { title, body } = m.notification ?? { title: '', body: '' };
    return { title, body, collapseId: m.android.collapse_key, messageId: m.data.messageId! };
  }
  const apns = JSON.parse(message.APNS ?? message.APNS_SANDBOX!) as {
    aps: { alert: { title: string; body: string } };
  };
  const { title, body } = apns.aps.alert;
  return {
    title,
    body,
    collapseId: input.MessageAttributes!['AWS.SNS.MOBILE.APNS.COLLAPSE_ID']!.StringValue!,
  };
}

/**
 * A RoutingPushTransport whose only route is `inner`'s transport for `platform`: as every
 * tenant's default, or as one tenant's own (`tenantId`). The provider knobs are `inner`'s.
 */
export function routedPushHarness(
  inner: PushTransportHarness,
  platform: Platform,
  tenantId?: string,
): PushTransportHarness {
  const route = { [platform]: inner.transport };
  const transport = new RoutingPushTransport(
    tenantId === undefined ? { routes: route } : { routes: {}, tenants: new Map([[tenantId, route]]) },
  );
  return { ...inner, transport };
}
