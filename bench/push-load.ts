import { createHash } from 'node:crypto';
import { Category, Platform } from '../src/domain/types.ts';
import type { PushMessage } from '../src/ports/transports.ts';

/**
 * What the push benchmark's parent and its client processes share: the job a child runs, what it
 * answers, the notifications (the same for every client) and which device tokens are scripted to fail.
 */

/** The two APNs clients compared. */
export const PushClient = { Ours: 'ours', NodeApn: 'node-apn' } as const;
export type PushClient = (typeof PushClient)[keyof typeof PushClient];

/** The fake APNs and the credentials a child connects with. */
export interface PushTarget {
  readonly origin: string;
  readonly port: number;
  readonly ca: string;
  readonly signingKey: string;
  readonly keyId: string;
  readonly teamId: string;
  readonly topic: string;
}

/** One child process: one client, a warm-up, then one measured pass. */
export interface PushClientJob {
  readonly client: PushClient;
  readonly target: PushTarget;
  /** Device tokens of the measured pass are derived from it; the warm-up uses its own. */
  readonly runId: string;
  readonly notifications: number;
  readonly warmup: number;
  /** Sends in flight at once. */
  readonly window: number;
  /** Our transport's HTTP/2 connections (node-apn's Provider always uses one). */
  readonly connections: number;
}

/** How each notification of a pass ended, from the caller's point of view. */
export interface PushOutcomes {
  /** The client said it was delivered. */
  readonly delivered: number;
  /** Reported as a dead token the caller can deactivate (410 / BadDeviceToken). */
  readonly deadReported: number;
  /** Handed back as "retry later" (our TransportRetryableError): the queue re-delivers it. */
  readonly retryLater: number;
  /** Neither delivered, nor a dead token, nor handed back for retry: gone unless the caller adds code. */
  readonly lost: number;
}

/** What a child process answers. */
export interface PushClientResult extends PushOutcomes {
  readonly client: PushClient;
  readonly ms: number;
  /** CPU time (user + system, all threads) the child spent in the measured pass. */
  readonly cpuMs: number;
  /** process.resourceUsage().maxRSS, MiB: the child's peak for warm-up and pass together. */
  readonly peakRssMiB: number;
  /** RSS after the client was loaded and before anything was sent, MiB. */
  readonly loadedRssMiB: number;
  /** Highest V8 used heap sampled during the pass, MiB. */
  readonly peakHeapMiB: number;
  /** V8 used heap after the pass and a full GC, MiB (connections still open). */
  readonly retainedHeapMiB: number;
  readonly node: string;
}

/** Device token number `i` of a run: 32 bytes of hex, as iOS hands them out. */
export function deviceToken(runId: string, i: number): string {
  return createHash('sha256').update(`${runId}:${i}`).digest('hex');
}

/** A UUID-shaped id derived from a seed, so every client sends the same apns-id for the same notification. */
function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Notification `i` of a run: one comment notification per device, one in ten a mention (urgent). */
export function benchMessage(runId: string, i: number, now: number): PushMessage {
  const token = deviceToken(runId, i);
  const notificationId = `n${i}`;
  return {
    tenantId: 'bench',
    userId: `u${i}`,
    token,
    platform: Platform.Apns,
    title: 'Ada commented on your post',
    body: 'Looks great! Where was this taken? The light over the water is wonderful.',
    category: i % 10 === 0 ? Category.Mention : Category.Social,
    collapseId: createHash('md5').update(`${notificationId}:${token}`).digest('hex'),
    messageId: uuidFrom(`${notificationId}:${token}`),
    data: { notificationId, eventId: `e${i}`, type: 'comment', actorId: 'u0', objectId: `post-${i % 97}` },
    expiresAt: now + 86_400_000,
  };
}

/** What the fake answers for a token in the faults pass. */
export const Fault = { Unregistered: 'unregistered', ThrottledOnce: 'throttled-once' } as const;
export type Fault = (typeof Fault)[keyof typeof Fault];

/** 2% of tokens answer 410 Unregistered, another 2% answer 429 once and then 200. */
export function faultOf(i: number): Fault | undefined {
  if (i % 50 === 7) return Fault.Unregistered;
  if (i % 50 === 32) return Fault.ThrottledOnce;
  return undefined;
}

/** Runs `send(i)` for i in [0, count) with at most `window` in flight. */
export async function inWindow(
  count: number,
  window: number,
  send: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await send(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
}
