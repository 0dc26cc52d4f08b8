import type { AuditEntry } from '../domain/audit-types.ts';
import { decideDelivery } from '../domain/delivery.ts';
import { type DigestLine, renderDigest } from '../domain/digest-render.ts';
import {
  DIGEST_CATEGORIES,
  type DigestCategory,
  type DigestEntry,
  digestKey,
  digestPeriodId,
  emailCadenceOf,
} from '../domain/email-digest.ts';
import { TransportRetryableError } from '../domain/errors.ts';
import { maxUlidAt, minUlidAt } from '../domain/ids.ts';
import { targetDigest } from '../domain/keys.ts';
import { liveLowerBound } from '../domain/ttl.ts';
import { Channel, type InboxRow, Outcome, type Preferences } from '../domain/types.ts';
import { type UnsubscribeTokens, unsubscribeUrl } from '../domain/unsubscribe.ts';
import { errorName } from '../lib/error-name.ts';
import type { AuditSink } from '../ports/audit-sink.ts';
import type { Clock } from '../ports/clock.ts';
import { ClaimState, type DedupStore } from '../ports/dedup-store.ts';
import type { DigestSchedule } from '../ports/digest-schedule.ts';
import type { Inbox } from '../ports/inbox.ts';
import { type Logger, silentLogger } from '../ports/logger.ts';
import type { PreferenceCache, PreferenceStore } from '../ports/preferences.ts';
import type { EmailTransport } from '../ports/transports.ts';
import { deliveryIds } from './delivery-ids.ts';
import { readPreferences } from './preferences-read.ts';

/** What the digest sender needs. */
export interface EmailDigestDeps {
  readonly schedule: DigestSchedule;
  readonly inbox: Inbox;
  readonly preferences: PreferenceStore;
  readonly preferenceCache: PreferenceCache;
  readonly dedup: DedupStore;
  readonly email: EmailTransport;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Signed one-click unsubscribe links, as the email consumer has them. */
  readonly unsubscribe?: { readonly baseUrl: string; readonly tokens: UnsubscribeTokens };
  /** Due digests taken per run. @default 200 */
  readonly batchSize?: number;
  /** Dedup lease of an in-flight digest. @default 60_000 */
  readonly leaseMs?: number;
}

/** What one run did. */
export interface EmailDigestResult {
  /** Due entries taken from the schedule. */
  readonly due: number;
  readonly sent: number;
  /** Due digests with nothing to send (nothing unread, email off, no address). */
  readonly skipped: number;
  /** Digests decided before (a claim answered done). */
  readonly duplicate: number;
  /** Digests the provider refused for good (audited `failed`). */
  readonly failed: number;
  /** Left pending for the next run: busy claim, transport retry, store failure. */
  readonly retry: number;
}

/** Lines a digest lists; past it, "and N more in the app". */
export const DIGEST_MAX_LINES = 50;
/** Inbox rows read per digest at most (pages of 100): the count stops there. */
const MAX_ROWS_READ = 1_000;
const PAGE = 100;

/** Audit reasons of a digest's decisions. */
export const DigestReason = {
  Digest: 'email_digest',
  NothingUnread: 'nothing_unread',
  NoConsent: 'no_consent',
  EmailOff: 'channel_off',
  NoEmail: 'no_email',
  /** No category of the digest's cadence is left (the user changed cadences or turned them off). */
  NoCategory: 'no_category',
} as const;

/**
 * The email digest sender, run every minute (the `email-digest` Lambda on its schedule; the
 * embedded pipeline's timer): takes the due entries of the schedule and, per (user, period),
 * sends one email listing the user's unread inbox items of the period in the categories of that
 * cadence, or nothing when none is unread.
 *
 * Effectively-once per (user, period) by the email path's own machinery: the digest's key is
 * claimed in the dedup store before anything is read; send → audit → confirm → schedule done. A
 * crash after the send leaves the claim pending and the entry in the schedule: the next runs find
 * the claim busy, then stale once its lease ends, and send again as an ambiguous re-send with the
 * same Message-ID (derived from the period and the address), recorded `ambiguous`. A claim that
 * answers done (a run that got as far as the confirm) sends nothing and clears the entry.
 *
 * Consent and address are checked again at send time, as the email consumer checks them: a user
 * who turned email off since the emails were held gets nothing.
 */
export async function sendDueDigests(deps: EmailDigestDeps): Promise<EmailDigestResult> {
  const logger = deps.logger ?? silentLogger;
  const now = deps.clock.now();
  const entries = await deps.schedule.due(now, deps.batchSize ?? 200);
  const counts = { due: entries.length, sent: 0, skipped: 0, duplicate: 0, failed: 0, retry: 0 };
  for (const entry of entries) {
    try {
      const outcome = await digestOne(deps, entry, now);
      counts[outcome]++;
    } catch (err) {
      counts.retry++;
      logger.warn('email digest failed; retrying next run', {
        tenantId: entry.tenantId,
        period: digestPeriodId(entry),
        error: errorName(err),
      });
    }
  }
  return counts;
}

type RunOutcome = 'sent' | 'skipped' | 'duplicate' | 'failed' | 'retry';

async function digestOne(deps: EmailDigestDeps, entry: DigestEntry, now: number): Promise<RunOutcome> {
  const key = digestKey(entry);
  const [state] = await deps.dedup.claim([{ key, leaseMs: deps.leaseMs ?? 60_000 }]);
  if (state === ClaimState.Busy) return 'retry';
  const audit = (outcome: Outcome, extras: Partial<AuditEntry> = {}): AuditEntry => ({
    at: now,
    tenantId: entry.tenantId,
    userId: entry.userId,
    channel: Channel.Email,
    notificationId: `digest:${digestPeriodId(entry)}`,
    eventId: `digest:${digestPeriodId(entry)}`,
    outcome,
    ...extras,
  });
  if (state === ClaimState.Done) {
    await deps.audit.append([audit(Outcome.Duplicate, { reason: DigestReason.Digest })]);
    await deps.schedule.done([entry]);
    return 'duplicate';
  }
  const ambiguous = state === ClaimState.AcquiredStale;
  // Reads that fail before the send give a fresh claim back, so the next run's digest is not taken
  // for an ambiguous re-send (a stale claim stays: its first holder may have sent).
  const beforeSend = async <R>(read: () => Promise<R>): Promise<R> => {
    try {
      return await read();
    } catch (err) {
      if (!ambiguous) await deps.dedup.release([key]).catch(() => undefined);
      throw err;
    }
  };
  const prefs = await beforeSend(() => readPreferences(deps, deps.logger ?? silentLogger, entry));
  const scope = digestCategories(prefs, entry, now);
  const skip = async (reason: string): Promise<RunOutcome> => {
    await deps.audit.append([audit(Outcome.Skipped, { reason, items: 0 })]);
    await finish(deps, key, entry);
    return 'skipped';
  };
  if ('reason' in scope) return skip(scope.reason);
  const { address, list } = scope;
  const { rows, total } = await beforeSend(() => unreadOfPeriod(deps.inbox, entry, list, now));
  if (total === 0) return skip(DigestReason.NothingUnread);
  const target = targetDigest(address);
  const covered = list
    .map((category) => ({ category, count: rows.filter((r) => r.category === category).length }))
    .filter((c) => c.count > 0);
  const links = covered.map(({ category }) => ({
    category,
    ...(deps.unsubscribe === undefined
      ? {}
      : { unsubscribeUrl: signedUrl(deps.unsubscribe, entry, category) }),
  }));
  const rendered = renderDigest(rows.slice(0, DIGEST_MAX_LINES).map(lineOf), {
    cadence: entry.cadence,
    total,
    ...(prefs?.locale === undefined ? {} : { locale: prefs.locale }),
    categories: links,
  });
  // One link in the header: the category with the most lines (a header's one-click POST can only
  // act on one); the footer has a link per category.
  const busiest = covered.reduce((a, b) => (b.count > a.count ? b : a));
  const headerLink = links.find((l) => l.category === busiest.category)?.unsubscribeUrl;
  let result: Awaited<ReturnType<EmailTransport['send']>>;
  try {
    result = await deps.email.send({
      tenantId: entry.tenantId,
      userId: entry.userId,
      to: address,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      messageId: deliveryIds(key, target).messageId,
      ...(headerLink === undefined ? {} : { headers: oneClickHeaders(headerLink) }),
      ...(ambiguous ? { ambiguousRetry: true } : {}),
    });
  } catch (err) {
    if (err instanceof TransportRetryableError && !err.ambiguous && !ambiguous) {
      // Certainly not sent: free the key, the next run claims it again.
      await deps.dedup.release([key]).catch(() => undefined);
    } else {
      // Maybe sent: keep the claim, so the next send is an ambiguous re-send with the same id.
      await deps.audit.append([
        audit(Outcome.Unknown, { reason: 'no_answer', target, ...(ambiguous ? { ambiguous } : {}) }),
      ]);
    }
    throw err;
  }
  const extras = { target, items: total, ...(ambiguous ? { ambiguous } : {}) };
  await deps.audit.append([
    result.status === 'sent'
      ? audit(Outcome.Sent, { ...extras, reason: DigestReason.Digest })
      : audit(Outcome.Failed, { ...extras, reason: result.reason }),
  ]);
  await finish(deps, key, entry);
  return result.status === 'sent' ? 'sent' : 'failed';
}

/** Confirm, then clear the entry. A failed confirm leaves the claim to turn stale: logged, not retried. */
async function finish(deps: EmailDigestDeps, key: string, entry: DigestEntry): Promise<void> {
  try {
    await deps.dedup.confirm([key]);
  } catch (err) {
    (deps.logger ?? silentLogger).warn('dedup confirm failed', { error: errorName(err) });
  }
  await deps.schedule.done([entry]);
}

/**
 * The categories a digest of this cadence covers for this user now, with the address, or why it
 * sends nothing: consent, the email switch and an address as the email consumer checks them, and
 * the categories whose cadence is still this one and whose email is on.
 */
function digestCategories(
  prefs: Preferences | undefined,
  entry: DigestEntry,
  now: number,
): { readonly address: string; readonly list: readonly DigestCategory[] } | { readonly reason: string } {
  const list = DIGEST_CATEGORIES.filter(
    (c) =>
      prefs !== undefined &&
      emailCadenceOf(prefs, c) === entry.cadence &&
      decideDelivery(prefs, Channel.Email, c, now).kind === 'send',
  );
  if (list.length > 0 && prefs?.email) return { address: prefs.email, list };
  // Say why in the consumer's words, from the first category's decision.
  const decision = decideDelivery(prefs, Channel.Email, DIGEST_CATEGORIES[0]!, now);
  if (decision.kind === 'suppress' && decision.reason !== 'category_off') return { reason: decision.reason };
  return { reason: DigestReason.NoCategory };
}

/**
 * The user's unread items created in the period, in the given categories, newest first; `total`
 * counts them up to MAX_ROWS_READ rows read. An aggregated item is one row (its id is its newest
 * activity's: an item whose newest like falls in the period is in it).
 */
async function unreadOfPeriod(
  inbox: Inbox,
  entry: DigestEntry,
  categories: readonly DigestCategory[],
  now: number,
): Promise<{ rows: InboxRow[]; total: number }> {
  const wanted = new Set<string>(categories);
  const live = liveLowerBound(now);
  const start = maxUlidAt(entry.periodStart - 1);
  // Strings, not numbers: the later of the two bounds.
  const afterId = [start, live].sort()[1]!;
  let beforeId = minUlidAt(entry.dueAt);
  const rows: InboxRow[] = [];
  let total = 0;
  for (let read = 0; read < MAX_ROWS_READ; read += PAGE) {
    const page = await inbox.page(entry, { limit: PAGE, beforeId, afterId });
    for (const row of page) {
      if (row.read || !wanted.has(row.category)) continue;
      total++;
      if (rows.length < DIGEST_MAX_LINES) rows.push(row);
    }
    if (page.length < PAGE) break;
    beforeId = page[page.length - 1]!.id;
  }
  return { rows, total };
}

function lineOf(row: InboxRow): DigestLine {
  return {
    type: row.type,
    actorId: row.actorId,
    category: row.category,
    ...(row.group === undefined ? {} : { group: row.group }),
  };
}

function signedUrl(
  unsubscribe: NonNullable<EmailDigestDeps['unsubscribe']>,
  entry: DigestEntry,
  category: DigestCategory,
): string {
  const token = unsubscribe.tokens.sign({ tenantId: entry.tenantId, userId: entry.userId, category });
  return unsubscribeUrl(unsubscribe.baseUrl, token);
}

/** RFC 8058, as the email consumer sets it: the one-click marker only with an https link. */
function oneClickHeaders(url: string): Record<string, string> {
  return {
    'List-Unsubscribe': `<${url}>`,
    ...(url.startsWith('https://') ? { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}),
  };
}
