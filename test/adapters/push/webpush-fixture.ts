import { type FakePushService, startFakePushService } from '../../../fakes/fake-push-service.ts';
import { generateVapidKeyPair, type VapidKeys } from '../../../src/adapters/push/webpush/vapid.ts';
import {
  WebPushTransport,
  type WebPushTransportOptions,
} from '../../../src/adapters/push/webpush/webpush-transport.ts';
import { parseWebPushSubscription, webPushToken } from '../../../src/domain/web-push-subscription.ts';
import type { PushTransportHarness } from '../../contracts/push-transport.contract.ts';

/** Keys of one test run: drawn once, as a deployment draws them once. */
/** The fake push service's host: allowed for the tests alone (real subscriptions never name it). */
export const FAKE_PUSH_HOSTS: readonly string[] = ['127.0.0.1'];

export const TEST_VAPID: VapidKeys = { ...generateVapidKeyPair(), subject: 'mailto:ops@example.com' };

/** Three tries whose sleeps return at once, and the waits they asked for. */
export function fastRetries() {
  const slept: number[] = [];
  return {
    slept,
    options: {
      backoff: { attempts: 3, baseMs: 1, maxMs: 2 },
      retryBudgetMs: 100_000,
      requestTimeoutMs: 5_000,
      sleep: async (ms: number) => {
        slept.push(ms);
      },
    } satisfies Partial<WebPushTransportOptions>,
  };
}

/** A fake push service that takes only TEST_VAPID's key, and a transport signing with it. */
export async function webPushBench(extra: Partial<WebPushTransportOptions> = {}) {
  const service = await startFakePushService({ vapidPublicKey: TEST_VAPID.publicKey });
  const retries = fastRetries();
  const transport = new WebPushTransport({
    vapid: TEST_VAPID,
    endpointHosts: FAKE_PUSH_HOSTS,
    ...retries.options,
    ...extra,
  });
  /** A new browser subscription: the fake's id, and the device token it registers as. */
  const subscribe = () => {
    const { id, subscription } = service.subscribe();
    return { id, token: webPushToken(parseWebPushSubscription(subscription)) };
  };
  return { service, transport, subscribe, slept: retries.slept };
}

/** The decrypted payload of a push, as JSON. */
export function payloadOf(push: { readonly payload: string }): Record<string, unknown> {
  return JSON.parse(push.payload) as Record<string, unknown>;
}

/** The PushTransport contract's harness of the Web Push transport, against the fake push service. */
export async function webPushHarness(): Promise<PushTransportHarness> {
  const bench = await webPushBench();
  const ids = new Map<string, string>();
  let service: FakePushService | undefined = bench.service;
  return {
    transport: bench.transport,
    token: () => {
      const { id, token } = bench.subscribe();
      ids.set(token, id);
      return token;
    },
    received: async (token) =>
      bench.service.receivedBy(ids.get(token) ?? '').map((push) => {
        const p = payloadOf(push);
        return { title: p.title as string, body: p.body as string, collapseId: push.topic! };
      }),
    requests: async () => bench.service.requests(),
    killToken: async (token) => {
      bench.service.script(ids.get(token)!, { status: 410 });
    },
    breakProvider: async () => {
      bench.service.breakService();
    },
    async close() {
      await bench.transport.close();
      await service?.close();
      service = undefined;
    },
  };
}
