import type { StatementSync } from 'node:sqlite';
import { TransportRetryableError } from '../../domain/errors.ts';
import { targetDigest } from '../../domain/keys.ts';
import { Channel } from '../../domain/types.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type {
  EmailMessage,
  EmailResult,
  EmailTransport,
  PushMessage,
  PushResult,
  PushTransport,
} from '../../ports/transports.ts';
import { checkEmailMessage } from '../checks/email-message.ts';
import { requireText } from '../checks/input.ts';
import type { EmbeddedDb } from './db.ts';
import { storeStep } from './store-step.ts';

/** What a recording sink has seen, over its whole life (it is stored, so it survives restarts). */
export interface TransportStats {
  /** Every call that returned `sent`. */
  readonly sends: number;
  /** Distinct message ids sent. */
  readonly unique: number;
  /** Repeats of a message id flagged `ambiguousRetry`: the documented ambiguous-send window. */
  readonly ambiguousResends: number;
  /** Repeats of a message id NOT flagged `ambiguousRetry`: a double send. Must stay 0. */
  readonly duplicates: number;
}

/** One message id as recorded: digests and counts, never the token, address or body. */
export interface RecordedSend {
  readonly messageId: string;
  readonly tenantId: string;
  readonly userId: string;
  /** `targetDigest` of the token or address. */
  readonly target: string;
  /** Length of the body (push) or text part (email), in UTF-16 code units. */
  readonly bodyLength: number;
  readonly sends: number;
  readonly ambiguousResends: number;
  readonly duplicates: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

/**
 * Injects a provider's answer per message, for tests: a rejection to return, an error to throw,
 * or undefined to send normally. A TransportRetryableError with `ambiguous: true` counts as
 * having reached the provider (a timeout after the request left), so it is recorded, then thrown.
 */
export type TransportFault<M, R> = (message: M) => R | Error | undefined;

export interface RecordingPushTransportOptions {
  readonly db: EmbeddedDb;
  /** Stamps first and last sends. @default systemClock */
  readonly clock?: Clock;
  readonly fault?: TransportFault<PushMessage, PushResult>;
}

export interface RecordingEmailTransportOptions {
  readonly db: EmbeddedDb;
  /** Stamps first and last sends. @default systemClock */
  readonly clock?: Clock;
  readonly fault?: TransportFault<EmailMessage, EmailResult>;
}

/**
 * The embedded push transport when no APNs / FCM credentials are configured: it records every
 * send in SQLite instead of delivering it, so the demo and the crash tests can prove that no
 * message id reached the "provider" twice except as a flagged ambiguous retry.
 */
export class RecordingPushTransport implements PushTransport {
  readonly #recorder: SendRecorder;
  readonly #fault: TransportFault<PushMessage, PushResult> | undefined;

  constructor(opts: RecordingPushTransportOptions) {
    this.#recorder = new SendRecorder(opts.db, Channel.Push, opts.clock ?? systemClock);
    this.#fault = opts.fault;
  }

  async send(message: PushMessage): Promise<PushResult> {
    requireText(message?.token, 'message.token');
    const fault = this.#fault?.(message);
    if (fault instanceof Error) return this.#recorder.fail(message, message.token, message.body, fault);
    if (fault !== undefined && fault.status !== 'sent') return fault;
    await this.#recorder.record(message, message.token, message.body, pushTargetDigest(message));
    return fault ?? { status: 'sent', providerMessageId: message.messageId };
  }

  stats(): Promise<TransportStats> {
    return this.#recorder.stats();
  }

  recorded(messageId: string): Promise<RecordedSend | undefined> {
    return this.#recorder.recorded(messageId);
  }
}

/**
 * The digest a push message carries when it is a well-formed one (16 lower-case hex chars, what
 * `targetDigest` writes), else the token's own: the push consumer hashed the token already.
 */
function pushTargetDigest(message: PushMessage): string | undefined {
  const carried = message.targetDigest;
  return typeof carried === 'string' && DIGEST.test(carried) ? carried : undefined;
}

const DIGEST = /^[0-9a-f]{16}$/;

/** The embedded email transport when no SMTP server is configured; see RecordingPushTransport. */
export class RecordingEmailTransport implements EmailTransport {
  readonly #recorder: SendRecorder;
  readonly #fault: TransportFault<EmailMessage, EmailResult> | undefined;

  constructor(opts: RecordingEmailTransportOptions) {
    this.#recorder = new SendRecorder(opts.db, Channel.Email, opts.clock ?? systemClock);
    this.#fault = opts.fault;
  }

  async send(message: EmailMessage): Promise<EmailResult> {
    // The SMTP and SES adapters' checks: the sink refuses what they would, header injection included.
    checkEmailMessage(message);
    const fault = this.#fault?.(message);
    if (fault instanceof Error) return this.#recorder.fail(message, message.to, message.text, fault);
    if (fault !== undefined && fault.status !== 'sent') return fault;
    await this.#recorder.record(message, message.to, message.text);
    return fault ?? { status: 'sent', providerMessageId: message.messageId };
  }

  stats(): Promise<TransportStats> {
    return this.#recorder.stats();
  }

  recorded(messageId: string): Promise<RecordedSend | undefined> {
    return this.#recorder.recorded(messageId);
  }
}

interface Sendable {
  readonly tenantId: string;
  readonly userId: string;
  readonly messageId: string;
  readonly ambiguousRetry?: boolean;
}

interface StoredSend {
  readonly message_id: string;
  readonly tenant_id: string;
  readonly user_id: string;
  readonly target: string;
  readonly body_length: number;
  readonly sends: number;
  readonly ambiguous_resends: number;
  readonly duplicates: number;
  readonly first_at: number;
  readonly last_at: number;
}

/** One send as the record statement reads it: message id, tenant, user, target, body length, flag, at. */
type PendingRow = [string, string, string, string, number, number, number];

/** The sends waiting for the next commit, and the one promise that settles with it. */
interface PendingCommit {
  readonly rows: PendingRow[];
  readonly committed: Promise<void>;
}

/** One channel's rows of the shared `recorded_sends` table. */
class SendRecorder {
  readonly #db: EmbeddedDb;
  readonly #channel: Channel;
  readonly #clock: Clock;
  #pending: PendingCommit | undefined;
  readonly #record: StatementSync;
  readonly #stats: StatementSync;
  readonly #lookup: StatementSync;

  constructor(db: EmbeddedDb, channel: Channel, clock: Clock) {
    this.#db = db;
    this.#channel = channel;
    this.#clock = clock;
    const sqlite = db.sqlite;
    [this.#record, this.#stats, this.#lookup] = storeStep('recording transport set-up', () => {
      // `recorded_sends` replaced `transport_sends` (no `last_ambiguous` column): a file from
      // before keeps its old table unused.
      sqlite.exec(`
        CREATE TABLE IF NOT EXISTS recorded_sends (
          channel TEXT NOT NULL,
          message_id TEXT NOT NULL,
          tenant_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          target TEXT NOT NULL,
          body_length INTEGER NOT NULL,
          sends INTEGER NOT NULL,
          ambiguous_resends INTEGER NOT NULL,
          duplicates INTEGER NOT NULL,
          first_at INTEGER NOT NULL,
          last_at INTEGER NOT NULL,
          last_ambiguous INTEGER NOT NULL,
          PRIMARY KEY (channel, message_id)
        ) WITHOUT ROWID;
      `);
      return [
        // One statement per send: a repeat is classified by its own flag (?7), which
        // `excluded.last_ambiguous` carries into the update. (One INSERT … SELECT over json_each
        // for the whole batch measured slower: every `value ->> n` parses the row's JSON again.)
        sqlite.prepare(
          `INSERT INTO recorded_sends (channel, message_id, tenant_id, user_id, target, body_length,
             sends, ambiguous_resends, duplicates, first_at, last_at, last_ambiguous)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 0, 0, ?8, ?8, ?7)
           ON CONFLICT (channel, message_id) DO UPDATE SET
             sends = sends + 1,
             ambiguous_resends = ambiguous_resends + excluded.last_ambiguous,
             duplicates = duplicates + 1 - excluded.last_ambiguous,
             last_at = excluded.last_at,
             last_ambiguous = excluded.last_ambiguous`,
        ),
        sqlite.prepare(
          `SELECT coalesce(sum(sends), 0) AS sends, count(*) AS n_unique,
             coalesce(sum(ambiguous_resends), 0) AS ambiguous_resends, coalesce(sum(duplicates), 0) AS duplicates
           FROM recorded_sends WHERE channel = ?`,
        ),
        sqlite.prepare(
          `SELECT message_id, tenant_id, user_id, target, body_length, sends, ambiguous_resends, duplicates,
             first_at, last_at
           FROM recorded_sends WHERE channel = ? AND message_id = ?`,
        ),
      ];
    });
  }

  /**
   * Records one send (`digest`: the target's digest when the caller has it). A failed write means nothing was "sent": a plain retryable error, so the
   * caller frees the dedup key and tries again.
   */
  async record(message: Sendable, target: string, body: string, digest?: string): Promise<void> {
    requireText(message.tenantId, 'message.tenantId');
    requireText(message.userId, 'message.userId');
    requireText(message.messageId, 'message.messageId');
    try {
      await this.#enqueue([
        message.messageId,
        message.tenantId,
        message.userId,
        digest ?? targetDigest(target),
        typeof body === 'string' ? body.length : 0,
        message.ambiguousRetry === true ? 1 : 0,
        this.#clock.now(),
      ]);
    } catch (err) {
      throw new TransportRetryableError('recording sink did not store the send', { cause: err });
    }
  }

  /** Throws an injected fault; an ambiguous one reached the provider, so it is recorded first. */
  async fail(message: Sendable, target: string, body: string, fault: Error): Promise<never> {
    if (fault instanceof TransportRetryableError && fault.ambiguous) {
      try {
        await this.record(message, target, body);
      } catch {
        // The injected fault is what the caller must see, recorded or not.
      }
    }
    throw fault;
  }

  /**
   * Group commit: every send issued in the same turn of the event loop (a consumer sends a whole
   * batch at once) is written in one transaction, and each resolves only after that commit. A
   * commit per send would cap the sink far below the pipeline; a send that resolved before its
   * commit could vanish in a crash and hide a double send.
   */
  #enqueue(row: PendingRow): Promise<void> {
    // One promise per commit, not one per send: every send of the commit awaits the same one.
    if (this.#pending === undefined) {
      const rows: PendingRow[] = [];
      this.#pending = {
        rows,
        committed: new Promise<void>((resolve, reject) => {
          setImmediate(() => {
            this.#pending = undefined;
            try {
              this.#flush(rows);
              resolve();
            } catch (err) {
              reject(err);
            }
          });
        }),
      };
    }
    this.#pending.rows.push(row);
    return this.#pending.committed;
  }

  #flush(batch: readonly PendingRow[]): void {
    const record = this.#record;
    const channel = this.#channel;
    // In message id order (stable, so repeats of one id keep theirs): B-tree writes in key order
    // walk the tree once instead of jumping between pages.
    const rows = [...batch].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    // A lone send commits by itself: BEGIN and COMMIT would only add two statements.
    if (rows.length === 1) record.run(channel, ...rows[0]!);
    else
      this.#db.transaction(() => {
        for (const row of rows) record.run(channel, ...row);
      });
  }

  async stats(): Promise<TransportStats> {
    const row = storeStep('recording transport stats', () => this.#stats.get(this.#channel)) as {
      sends: number;
      n_unique: number;
      ambiguous_resends: number;
      duplicates: number;
    };
    return {
      sends: row.sends,
      unique: row.n_unique,
      ambiguousResends: row.ambiguous_resends,
      duplicates: row.duplicates,
    };
  }

  async recorded(messageId: string): Promise<RecordedSend | undefined> {
    requireText(messageId, 'messageId');
    const row = storeStep('recording transport lookup', () => this.#lookup.get(this.#channel, messageId)) as
      | StoredSend
      | undefined;
    if (row === undefined) return undefined;
    return {
      messageId: row.message_id,
      tenantId: row.tenant_id,
      userId: row.user_id,
      target: row.target,
      bodyLength: row.body_length,
      sends: row.sends,
      ambiguousResends: row.ambiguous_resends,
      duplicates: row.duplicates,
      firstAt: row.first_at,
      lastAt: row.last_at,
    };
  }
}
