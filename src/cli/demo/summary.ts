import { liveLowerBound } from '../../domain/ttl.ts';
import { auditTotals, type ChannelTotals } from '../../runtime/embedded-stats.ts';
import { formatTable } from '../table.ts';
import type { DemoBackend } from './backend.ts';
import type { ViralTarget } from './viral.ts';

/** What `fanout demo --json` prints: totals from durable state, the same after a resumed run. */
export interface DemoSummary {
  readonly tenantId: string;
  /** Events in the log. */
  readonly events: number;
  /** Events this run appended (0 when a previous run posted them all). */
  readonly eventsAppended: number;
  readonly inboxRows: number;
  readonly celebrityPointers: number;
  readonly push: ChannelTotals;
  readonly email: ChannelTotals;
  /** Transport sends that repeated a delivery without being flagged ambiguous: must be 0. */
  readonly transportDuplicates: number;
  /** Re-sends after an unknown outcome, re-using the same collapse / message ids. */
  readonly ambiguousResends: number;
  /** Push targets rejected for good (their devices deactivated). */
  readonly devicesRejected: number;
  /** Messages in each dead-letter queue now. */
  readonly deadLetterQueue: { readonly push: number; readonly email: number };
  /** Jobs held back by quiet hours and not yet due. */
  readonly delayed: { readonly push: number; readonly email: number };
  readonly auditRecords: number;
  /** The embedded hash chain verified; null on local-aws, where S3 Object Lock guards the trail. */
  readonly auditChainValid: boolean | null;
  readonly elapsedMs: number;
  /** The like storm (`--viral N`), when the scenario has one. */
  readonly viral?: ViralSummary;
}

/** What the like storm left its post's owner: one item, exactly counted, and the pushes it cost. */
export interface ViralSummary {
  /** Distinct likers the scenario sent (re-sends and repeat likes come on top). */
  readonly likes: number;
  readonly ownerId: string;
  /** The owner's inbox items about the post: 1 when aggregation holds. */
  readonly ownerItems: number;
  /** The item's exact distinct-actor count: `likes` when nothing was lost or counted twice. */
  readonly actorCount: number;
  /** The owner's push decisions about the storm's likes (jobs, sent, capped, ...). */
  readonly ownerPush: ChannelTotals;
}

/** Reads every total from the stores, the audit log and the recording transports. */
export async function summarize(
  backend: DemoBackend,
  tenantId: string,
  extra: {
    readonly eventsAppended: number;
    readonly elapsedMs: number;
    readonly viral?: { readonly likes: number; readonly target: ViralTarget; readonly now: number };
  },
): Promise<DemoSummary> {
  const { ports } = backend;
  const counts = await backend.storeCounts(tenantId);
  const audit = await auditTotals(backend.auditEntries(), tenantId);
  const auditChainValid = await backend.auditChainValid();
  const { push, email } = await backend.transportStats();
  const [pushDepth, emailDepth] = await Promise.all([ports.queues.push.depth(), ports.queues.email.depth()]);
  return {
    tenantId,
    ...counts,
    eventsAppended: extra.eventsAppended,
    push: audit.channels.push,
    email: audit.channels.email,
    transportDuplicates: push.duplicates + email.duplicates,
    ambiguousResends: push.ambiguousResends + email.ambiguousResends,
    devicesRejected: audit.devicesRejected,
    deadLetterQueue: { push: pushDepth.deadLettered, email: emailDepth.deadLettered },
    delayed: { push: pushDepth.delayed, email: emailDepth.delayed },
    auditRecords: audit.records,
    auditChainValid,
    elapsedMs: extra.elapsedMs,
    ...(extra.viral ? { viral: await viralSummary(backend, tenantId, extra.viral) } : {}),
  };
}

async function viralSummary(
  backend: DemoBackend,
  tenantId: string,
  viral: { readonly likes: number; readonly target: ViralTarget; readonly now: number },
): Promise<ViralSummary> {
  const { ownerId, objectId } = viral.target;
  const owner = { tenantId, userId: ownerId };
  // The owner gets a few other notifications too: a page of 200 holds the post's item.
  const page = await backend.ports.inbox.page(owner, { limit: 200, afterId: liveLowerBound(viral.now) });
  const items = page.filter((row) => row.type === 'like' && row.objectId === objectId);
  async function* ownerEntries() {
    for await (const entry of backend.auditEntries()) {
      if (entry.userId === ownerId && entry.eventId.includes('-viral-')) yield entry;
    }
  }
  const audit = await auditTotals(ownerEntries(), tenantId);
  return {
    likes: viral.likes,
    ownerId,
    ownerItems: items.length,
    actorCount: items.reduce((n, row) => n + (row.group?.actorCount ?? 1), 0),
    ownerPush: audit.channels.push,
  };
}

const CHANNEL_ROWS: readonly [string, keyof ChannelTotals][] = [
  ['jobs', 'jobs'],
  ['sent', 'sent'],
  ['suppressed: quiet hours', 'suppressedQuietHours'],
  ['suppressed: no consent', 'suppressedNoConsent'],
  ['suppressed: preference', 'suppressedPreference'],
  ['suppressed: frequency cap', 'suppressedFrequencyCap'],
  ['suppressed: no device/address', 'suppressedNoAddress'],
  ['deferred (quiet hours)', 'deferred'],
  ['digested (one push a window)', 'digested'],
  ['duplicate (caught by dedup)', 'duplicate'],
  ['failed (rejected by provider)', 'failed'],
  ['outcome unknown (re-sent)', 'unknown'],
  ['dead-lettered', 'deadLettered'],
  ['retracted before sending', 'retracted'],
  ['withdrawn after sending', 'withdrawn'],
  ['withdrawal: never shown', 'notShown'],
];

/** The summary as a table for people. */
export function formatSummary(s: DemoSummary): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const head = formatTable([
    ['events', n(s.events), `(${n(s.eventsAppended)} new this run)`],
    ['inbox rows', n(s.inboxRows)],
    ['celebrity pointers', n(s.celebrityPointers)],
  ]);
  const channels = formatTable([
    ['delivery', 'push', 'email'],
    ...CHANNEL_ROWS.map(([label, key]) => [label, n(s.push[key]), n(s.email[key])]),
    ['dead-letter queue now', n(s.deadLetterQueue.push), n(s.deadLetterQueue.email)],
    ['delayed jobs now', n(s.delayed.push), n(s.delayed.email)],
  ]);
  const tail = formatTable([
    ['transport duplicates', n(s.transportDuplicates)],
    ['ambiguous re-sends', n(s.ambiguousResends)],
    ['devices rejected', n(s.devicesRejected)],
    [
      'audit records',
      n(s.auditRecords),
      s.auditChainValid === null ? 'in S3 (Object Lock)' : s.auditChainValid ? 'chain valid' : 'CHAIN BROKEN',
    ],
    ['elapsed', `${(s.elapsedMs / 1000).toFixed(1)} s`],
  ]);
  const viral = s.viral === undefined ? '' : `\n${formatViral(s.viral, n)}\n`;
  return `Fanout demo, tenant ${s.tenantId}\n\n${head}\n\n${channels}\n${viral}\n${tail}\n`;
}

function formatViral(v: ViralSummary, n: (v: number) => string): string {
  const exact = v.ownerItems === 1 && v.actorCount === v.likes;
  const table = formatTable([
    ['distinct likers', n(v.likes)],
    [
      'owner items',
      n(v.ownerItems),
      exact ? `one item, ${n(v.actorCount)} actors: exact` : `${n(v.actorCount)} actors: NOT EXACT`,
    ],
    ['owner push jobs', n(v.ownerPush.jobs)],
    ['owner pushes sent', n(v.ownerPush.sent), 'at most one per device per digest window'],
    ['owner pushes digested', n(v.ownerPush.digested), "folded into the window's digest push"],
    ['owner pushes capped', n(v.ownerPush.suppressedFrequencyCap)],
  ]);
  return `like storm on one post of ${v.ownerId}\n${table}`;
}
