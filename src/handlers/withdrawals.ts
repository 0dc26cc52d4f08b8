import { notificationId } from '../domain/ids.ts';
import { typePolicy } from '../domain/policy.ts';
import { type AuthorEvent, Channel, type DeliveryJob, type UserId, type UserKey } from '../domain/types.ts';
import type { DeliveryQueue } from '../ports/delivery-queue.ts';
import type { FollowerGraph } from '../ports/follower-graph.ts';
import { recipientsMergingPointer } from './pointer-audience.ts';

/** What withdrawals need: where push jobs go, and who follows whom. */
export interface WithdrawalDeps {
  /** The push queue (fan-out's buffered sink). */
  readonly queue: Pick<DeliveryQueue, 'sendBatch'>;
  readonly graph: FollowerGraph;
}

/**
 * The push withdrawals of one deleted event: one push job marked `withdraw` per user whose push
 * job fan-out made for it, under the notification id that job had, rebuilt as fan-out built it
 * (`rowsAndJobs`, `pointerJobs`, `alertFollowers`). The push consumer sends a withdrawal only to
 * the devices that got the original (src/handlers/deliver.ts).
 */
export class Withdrawals {
  readonly #original: AuthorEvent;
  readonly #pointerId: string | undefined;
  readonly #deps: WithdrawalDeps;

  constructor(original: AuthorEvent, pointerId: string | undefined, deps: WithdrawalDeps) {
    this.#original = original;
    this.#pointerId = pointerId;
    this.#deps = deps;
  }

  /** Explicit recipients: their own row's id, or the pointer's for one who follows a celebrity. */
  async recipients(author: UserKey, userIds: readonly UserId[]): Promise<void> {
    if (userIds.length === 0) return;
    const seePointer =
      this.#pointerId === undefined
        ? new Set<UserId>()
        : await recipientsMergingPointer(author, userIds, this.#deps.graph);
    await this.#send(userIds.map((userId) => this.#job(userId, seePointer.has(userId))));
  }

  /** Followers: their own row's id for a regular author, the pointer's for a celebrity. */
  async followers(userIds: readonly UserId[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.#send(userIds.map((userId) => this.#job(userId, this.#pointerId !== undefined)));
  }

  /**
   * A celebrity's followers: push jobs went only to those who asked for alerts, under the
   * pointer's id; `skip` (the explicit recipients) are done by `recipients`.
   */
  async alertFollowers(author: UserKey, skip: ReadonlySet<UserId>, pageSize: number): Promise<void> {
    let after: string | undefined;
    do {
      const page = await this.#deps.graph.pageFollowers(author, {
        limit: pageSize,
        alertsOnly: true,
        ...(after === undefined ? {} : { after }),
      });
      await this.followers(page.followers.filter((f) => f !== author.userId && !skip.has(f)));
      after = page.next;
    } while (after !== undefined);
  }

  async #send(jobs: DeliveryJob[]): Promise<void> {
    await this.#deps.queue.sendBatch(jobs);
  }

  #job(userId: UserId, viaPointer: boolean): DeliveryJob {
    const e = this.#original;
    return {
      tenantId: e.tenantId,
      userId,
      notificationId:
        viaPointer && this.#pointerId !== undefined
          ? this.#pointerId
          : notificationId(e.id, userId, e.occurredAt),
      channel: Channel.Push,
      eventId: e.id,
      type: e.type,
      category: typePolicy(e.type).category,
      actorId: e.actorId,
      createdAt: e.occurredAt,
      ...(e.objectId === undefined ? {} : { objectId: e.objectId }),
      withdraw: true,
    };
  }
}
