import { hash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { sleep as realSleep } from '../../lib/sleep.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { CapAnswer, type CapRequest, type FrequencyCaps } from '../../ports/frequency-caps.ts';
import { checkCapRequests } from '../checks/frequency-caps.ts';
import { isConditionFailure } from './errors.ts';
import { type RetryPolicy, retryDelay, retrying } from './retry.ts';

export interface DynamoFrequencyCapsOptions {
  readonly documents: DynamoDBDocumentClient;
  /** Physical name of the `frequencyCaps` table (`TABLES.frequencyCaps`: pk, TTL on `expiresAt`). */
  readonly tableName: string;
  /** Windows are judged by this clock. @default systemClock */
  readonly clock?: Clock;
  /** Backoff for throttled calls and for writes that lost a race. @default 8 attempts */
  readonly retry?: RetryPolicy;
}

/** window name → (slot digest → epoch ms the place was taken). */
type Windows = Record<string, Record<string, number>>;

interface CapItem {
  readonly pk: string;
  readonly w: Windows;
  readonly ver: number;
  readonly expiresAt: number;
}

/**
 * Frequency caps on DynamoDB: one item per user (`pk` = `tenant#user`) holding every window's
 * places (a map of slot digest → time taken) and a version. A call reads each user's item once
 * (strongly consistent), decides that user's requests in order, and writes the item back once
 * with a conditional PutItem on the version it read; losing the race to another consumer re-reads
 * and decides again, so a place is taken in every window or none and no window ever holds more
 * than its limit. Slots are stored as 64-bit digests: 4 windows × 1,000 places stay far below the
 * 400 KB item limit. A call with nothing granted writes nothing. `expiresAt` (seconds) lets
 * DynamoDB's TTL drop a user a window after their newest place. Cost per batch: 1 read and at
 * most 1 write per user in it.
 */
export class DynamoFrequencyCaps implements FrequencyCaps {
  readonly #documents: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: Clock;
  readonly #retry: RetryPolicy;

  constructor(opts: DynamoFrequencyCapsOptions) {
    this.#documents = opts.documents;
    this.#table = opts.tableName;
    this.#clock = opts.clock ?? systemClock;
    this.#retry = opts.retry ?? {};
  }

  async take(requests: readonly CapRequest[]): Promise<CapAnswer[]> {
    checkCapRequests(requests);
    const answers: CapAnswer[] = new Array(requests.length);
    const byUser = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const pk = `${r.tenantId}#${r.userId}`;
      const list = byUser.get(pk);
      if (list === undefined) byUser.set(pk, [i]);
      else list.push(i);
    });
    await Promise.all(
      [...byUser].map(async ([pk, indexes]) => {
        const decided = await this.#takeForUser(
          pk,
          indexes.map((i) => requests[i]!),
        );
        indexes.forEach((at, j) => {
          answers[at] = decided[j]!;
        });
      }),
    );
    return answers;
  }

  /** Read, decide, write on the version read; again from the read when another writer won. */
  async #takeForUser(pk: string, requests: readonly CapRequest[]): Promise<CapAnswer[]> {
    const maxAttempts = this.#retry.maxAttempts ?? 8;
    const sleep = this.#retry.sleep ?? realSleep;
    for (let attempt = 1; ; attempt++) {
      const item = await this.#read(pk);
      const now = this.#now();
      const windows: Windows = structuredClone(item?.w ?? {});
      let changed = false;
      const answers = requests.map(({ slotId, buckets }) => {
        const slot = slotDigest(slotId);
        for (const b of buckets) {
          const places = windows[b.name] ?? {};
          for (const [s, at] of Object.entries(places)) if (at <= now - b.windowMs) delete places[s];
          windows[b.name] = places;
        }
        if (buckets.some((b) => windows[b.name]![slot] !== undefined)) return CapAnswer.Granted;
        if (buckets.some((b) => Object.keys(windows[b.name]!).length >= b.limit)) return CapAnswer.Capped;
        for (const b of buckets) windows[b.name]![slot] = now;
        changed = true;
        return CapAnswer.Granted;
      });
      if (!changed) return answers;
      try {
        await this.#write(pk, windows, item, now, requests);
        return answers;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        if (attempt >= maxAttempts) {
          throw new StoreUnavailableError(`frequency caps: ${attempt} writes of one user lost their race`, {
            cause: err,
          });
        }
        await sleep(retryDelay(attempt, this.#retry));
      }
    }
  }

  async #read(pk: string): Promise<CapItem | undefined> {
    const out = await retrying(
      'frequency caps GetItem',
      () =>
        this.#documents.send(new GetCommand({ TableName: this.#table, Key: { pk }, ConsistentRead: true })),
      this.#retry,
    );
    return out.Item as CapItem | undefined;
  }

  async #write(
    pk: string,
    windows: Windows,
    read: CapItem | undefined,
    now: number,
    requests: readonly CapRequest[],
  ): Promise<void> {
    // Windows left empty are dropped, so the item holds only what still counts.
    for (const name of Object.keys(windows))
      if (Object.keys(windows[name]!).length === 0) delete windows[name];
    const longest = Math.max(...requests.flatMap((r) => r.buckets.map((b) => b.windowMs)));
    const version = read?.ver;
    const item: CapItem = {
      pk,
      w: windows,
      ver: (version ?? 0) + 1,
      // Never earlier than before: a shorter window asked now must not let TTL drop longer ones.
      expiresAt: Math.max(read?.expiresAt ?? 0, Math.ceil((now + longest) / 1000)),
    };
    await retrying(
      'frequency caps PutItem',
      () =>
        this.#documents.send(
          new PutCommand({
            TableName: this.#table,
            Item: item,
            ...(version === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: 'ver = :ver', ExpressionAttributeValues: { ':ver': version } }),
          }),
        ),
      this.#retry,
    );
  }

  #now(): number {
    try {
      return this.#clock.now();
    } catch (err) {
      throw new StoreUnavailableError('frequency caps store did not answer', { cause: err });
    }
  }
}

/** 16 hex chars of sha256: a slot's key in the item, short whatever the ids' length. */
function slotDigest(slotId: string): string {
  return hash('sha256', slotId).slice(0, 16);
}
