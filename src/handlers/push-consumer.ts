import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { digestCollapseSubject } from '../domain/digest.ts';
import { type CapDefaults, capBuckets, FREQUENCY_CAP_REASON } from '../domain/frequency-cap.ts';
import { targetDigest } from '../domain/keys.ts';
import { renderPush } from '../domain/render.ts';
import { Channel, type DeliveryJob, type Device, Outcome } from '../domain/types.ts';
import { errorName } from '../lib/error-name.ts';
import type { Devices } from '../ports/devices.ts';
import { CapAnswer, type CapRequest, type FrequencyCaps } from '../ports/frequency-caps.ts';
import type { Inbox } from '../ports/inbox.ts';
import { silentLogger } from '../ports/logger.ts';
import type { PushTransport } from '../ports/transports.ts';
import type { Admission, ChannelDriver, DeliveryDeps, DeliveryTarget, NoTarget } from './channel-driver.ts';
import { deliverBatch } from './deliver.ts';
import { type DeliveryIds, deliveryIds } from './delivery-ids.ts';
import { DigestGate } from './push-digest.ts';

/** Frequency caps as the push consumer applies them: the counters, and the tenants' defaults. */
export interface PushCaps {
  readonly store: FrequencyCaps;
  /** Per-tenant defaults, which a user's `frequencyCaps` preference overrides rule by rule. */
  readonly defaults: CapDefaults;
}

/** What the push consumer needs besides the shared delivery ports. */
export interface PushDeps extends DeliveryDeps {
  readonly devices: Devices;
  readonly push: PushTransport;
  /** Absent: no push is capped. */
  readonly caps?: PushCaps;
  /**
   * Where a grouped push reads its group, to show it as it is now ("Ana, Bo and 212 others").
   * Absent: digests still hold pushes to one per window, each showing its own job alone.
   */
  readonly inbox?: Inbox;
}

const CAPPED: NoTarget = Object.freeze({
  outcome: Outcome.SuppressedFrequencyCap,
  reason: FREQUENCY_CAP_REASON,
});

interface DeviceTarget extends DeliveryTarget {
  readonly device: Device;
  /** The user's locale preference, for the text of the push. */
  readonly locale: string | undefined;
}

/** The push consumer (SQS → APNs / FCM): one delivery per active device of the user. */
export async function consumePush(event: SQSEvent, deps: PushDeps): Promise<SQSBatchResponse> {
  return deliverBatch(event, deps, pushDriver(deps));
}

function pushDriver(deps: PushDeps): ChannelDriver<DeviceTarget> {
  const digests = new DigestGate(
    {
      dedup: deps.dedup,
      queue: deps.queue,
      leaseMs: deps.leaseMs ?? 60_000,
      ...(deps.inbox === undefined ? {} : { inbox: deps.inbox }),
      ...(deps.logger === undefined ? {} : { logger: deps.logger }),
    },
    deps.clock.now(),
  );
  const capped = deps.caps === undefined ? undefined : admitter(deps.caps);
  return {
    channel: Channel.Push,
    // `recent` (half the price on DynamoDB): a device registered in the last second is missed as
    // if it had registered a second later; one deactivated in it is rejected by its provider again.
    async targets(job, prefs) {
      const devices = await deps.devices.listActive(
        { tenantId: job.tenantId, userId: job.userId },
        { freshness: 'recent' },
      );
      return deviceTargets(devices, prefs.locale);
    },
    async targetsMany(requests) {
      const lists = await deps.devices.listActiveMany(
        requests.map(({ job }) => ({ tenantId: job.tenantId, userId: job.userId })),
        { freshness: 'recent' },
      );
      return lists.map((devices, i) => deviceTargets(devices, requests[i]?.prefs.locale));
    },
    admit: (requests) => admit(requests, digests, capped),
    async send(job, { device, digest, locale }, ambiguousRetry) {
      const group = job.withdraw === true ? undefined : digests.groupOf(job);
      const { title, body } =
        job.withdraw === true
          ? { title: '', body: '' }
          : renderPush(
              job,
              locale,
              group === undefined ? undefined : { actors: group.actors, actorCount: group.actorCount },
            );
      const result = await deps.push.send({
        tenantId: job.tenantId,
        userId: job.userId,
        token: device.token,
        platform: device.platform,
        title,
        body,
        category: job.category,
        ...(job.withdraw === true ? withdrawalIds(job, digest) : pushIds(job, digest)),
        data: pushData(job),
        targetDigest: digest,
        ...(ambiguousRetry ? { ambiguousRetry } : {}),
        ...(job.withdraw === true ? { withdraw: true } : {}),
      });
      if (result.status === 'sent') return result;
      if (!result.deactivateDevice) return { status: 'rejected', reason: result.reason };
      const opts = result.invalidSince === undefined ? {} : { ifRegisteredBefore: result.invalidSince };
      const afterAudit = async () => {
        try {
          await deps.devices.deactivate(job.tenantId, device.token, result.reason, opts);
        } catch (err) {
          // The rejection is final either way; the next rejection of this token tries again.
          (deps.logger ?? silentLogger).warn('device deactivation failed', {
            tenantId: job.tenantId,
            userId: job.userId,
            target: digest,
            error: errorName(err),
          });
        }
      };
      return { status: 'rejected', reason: result.reason, afterAudit };
    },
  };
}

type Admit = NonNullable<ChannelDriver<DeviceTarget>['admit']>;

/**
 * Digests first (a push folded into its group's digest takes no place under a cap), then frequency
 * caps on what would still be sent. A capped digest push gives its slot back and is folded into its
 * window's flush (audited `suppressed_frequency_cap` all the same): the group is pushed again at the
 * window's end if the cap allows it then, so a capped like is postponed rather than dropped.
 */
async function admit(requests: Parameters<Admit>[0], digests: DigestGate, caps: Admit | undefined) {
  const answers = await digests.admit(requests);
  if (caps === undefined) return answers;
  const open = answers.flatMap((a, at) => (a === undefined || 'hold' in a ? [at] : []));
  if (open.length === 0) return answers;
  const held = await caps(open.map((at) => requests[at]!));
  const capped: number[] = [];
  await Promise.all(
    open.map(async (at, i) => {
      const verdict = held[i];
      if (verdict === undefined) return;
      if (!('hold' in (answers[at] ?? {}))) {
        answers[at] = verdict;
        return;
      }
      await digests.release(answers[at]);
      answers[at] = verdict;
      if ('outcome' in verdict) capped.push(at);
    }),
  );
  if (capped.length === 0) return answers;
  const folded = await digests.foldCapped(capped.map((at) => requests[at]!.job));
  folded.forEach((answer, i) => {
    if (answer !== undefined) answers[capped[i]!] = answer;
  });
  return answers;
}

/**
 * The provider ids of a push. A grouped push takes its collapse id (APNs collapse id, FCM collapse
 * key, Web Push Topic) from its group, so every push of the group replaces the one before on the
 * device; its message id stays the notification's, the same on an ambiguous re-send.
 */
function pushIds(job: DeliveryJob, digest: string): DeliveryIds {
  const own = deliveryIds(job.notificationId, digest);
  if (job.groupKey === undefined) return own;
  const subject = digestCollapseSubject({ tenantId: job.tenantId, userId: job.userId }, job.groupKey);
  return { collapseId: deliveryIds(subject, digest).collapseId, messageId: own.messageId };
}

/**
 * The ids of a withdrawal: the original push's collapse id (a withdrawn notification is never a
 * digest's, so it is the notification's own), which the device or service worker finds the shown
 * notification by, and a message id of its own, the same on every attempt.
 */
export function withdrawalIds(job: DeliveryJob, digest: string): DeliveryIds {
  return {
    collapseId: deliveryIds(job.notificationId, digest).collapseId,
    messageId: deliveryIds(`${job.notificationId}!withdraw`, digest).messageId,
  };
}

/**
 * Frequency caps: one place per job (not per device: a push to three devices is one push to the
 * user) in each of the user's windows, taken in one store call per batch. The place is keyed by
 * the delivery, so a re-delivered job is granted its own place again instead of taking a second.
 * `critical` has no window and never reaches the store, so it goes out even when the store is down.
 */
function admitter(caps: PushCaps): NonNullable<ChannelDriver<DeviceTarget>['admit']> {
  return async (requests) => {
    const answers: Admission[] = requests.map(() => undefined);
    const asks: { readonly at: number; readonly request: CapRequest }[] = [];
    requests.forEach(({ job, prefs }, at) => {
      const buckets = capBuckets(caps.defaults, job.tenantId, prefs, job.category);
      if (buckets.length === 0) return;
      const slotId = `${job.tenantId}#${job.notificationId}#${Channel.Push}`;
      asks.push({ at, request: { tenantId: job.tenantId, userId: job.userId, slotId, buckets } });
    });
    if (asks.length === 0) return answers;
    let taken: CapAnswer[];
    try {
      taken = await caps.store.take(asks.map((a) => a.request));
    } catch (error) {
      // Fail-closed for the capped jobs only: a push no cap applies to (critical) still goes.
      for (const { at } of asks) answers[at] = { error };
      return answers;
    }
    asks.forEach(({ at }, i) => {
      if (taken[i] === CapAnswer.Capped) answers[at] = CAPPED;
    });
    return answers;
  };
}

function deviceTargets(devices: readonly Device[], locale: string | undefined): DeviceTarget[] | NoTarget {
  if (devices.length === 0) return { outcome: Outcome.SuppressedNoAddress, reason: 'no_device' };
  return devices.map((device) => ({ device, digest: targetDigest(device.token), locale }));
}

/** What the app on the device needs to open the notification: ids, never the payload. */
function pushData(job: DeliveryJob): Record<string, string> {
  return {
    notificationId: job.notificationId,
    eventId: job.eventId,
    type: job.type,
    actorId: job.actorId,
    ...(job.objectId === undefined ? {} : { objectId: job.objectId }),
  };
}
