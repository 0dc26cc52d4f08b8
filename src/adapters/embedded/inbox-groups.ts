import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { GROUP_ACTORS_SHOWN, newestActors } from '../../domain/grouping.ts';
import type { InboxRow, UserKey } from '../../domain/types.ts';
import { payloadJson } from '../stored-payload.ts';

/** An actor shown on an aggregated item, with the time of its activity. */
interface Shown {
  readonly actorId: string;
  readonly at: number;
}

interface GroupState {
  readonly row_id: string;
  readonly actor_count: number;
  readonly actors: string;
}

/** What a retraction found and did in one inbox. */
export interface GroupRetraction {
  /** The actor was in the group through this event and is out now. */
  readonly removed: boolean;
  /** The group's item is gone (its last actor left). */
  readonly emptied: boolean;
}

const ROW_COLUMNS =
  'tenant_id, user_id, id, event_id, type, category, actor_id, object_id, data, created_at, read, source, group_key, actor_count, actors';

/**
 * The aggregated half of the embedded inbox (schema in inbox-schema.ts). Runs inside the caller's
 * transaction, so an actor's insert, the group's count and the move of its row commit together:
 * a crash leaves all of them or none, and a retry finds the actor and counts nothing twice.
 *
 * A group's item is one row of `inbox_rows` whose id is the newest activity's notification id.
 * When a new actor joins with a newer id, the old row is deleted and a new one inserted unread at
 * the top; when the joining activity is older than the row (a late event), the row stays where
 * it is and becomes unread. The unread counter triggers see a delete and an insert (or a flip),
 * so the counts stay exact with no code of their own.
 */
export class EmbeddedGroups {
  readonly #s: Record<
    'actor' | 'group' | 'saveGroup' | 'dropGroup' | 'row' | 'deleteRow' | 'updateRow' | 'insertRow',
    StatementSync
  >;
  readonly #retract: Record<'findActor' | 'deleteActor' | 'newest' | 'dropActors', StatementSync>;
  readonly #expired: StatementSync;

  constructor(sqlite: DatabaseSync) {
    this.#s = {
      actor: sqlite.prepare(
        `INSERT OR IGNORE INTO inbox_group_actors (tenant_id, user_id, group_key, actor_id, event_id, at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      group: sqlite.prepare(
        'SELECT row_id, actor_count, actors FROM inbox_groups WHERE tenant_id = ? AND user_id = ? AND group_key = ?',
      ),
      saveGroup: sqlite.prepare(
        `INSERT INTO inbox_groups (tenant_id, user_id, group_key, row_id, actor_count, actors) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, user_id, group_key) DO UPDATE SET row_id = excluded.row_id,
           actor_count = excluded.actor_count, actors = excluded.actors`,
      ),
      dropGroup: sqlite.prepare(
        'DELETE FROM inbox_groups WHERE tenant_id = ? AND user_id = ? AND group_key = ?',
      ),
      row: sqlite.prepare('SELECT read FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id = ?'),
      deleteRow: sqlite.prepare('DELETE FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id = ?'),
      updateRow: sqlite.prepare(
        // New activity (?1) brings an archived item back: unread and in All.
        `UPDATE inbox_rows SET read = CASE WHEN ?1 THEN 0 ELSE read END,
           archived = CASE WHEN ?1 THEN 0 ELSE archived END, actor_count = ?2, actors = ?3
         WHERE tenant_id = ?4 AND user_id = ?5 AND id = ?6`,
      ),
      insertRow: sqlite.prepare(
        `INSERT INTO inbox_rows (${ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
    this.#expired = sqlite.prepare(
      'SELECT tenant_id, user_id, group_key FROM inbox_groups WHERE row_id <= ? LIMIT CAST(? AS INTEGER)',
    );
    this.#retract = {
      findActor: sqlite.prepare(
        `SELECT event_id FROM inbox_group_actors
         WHERE tenant_id = ? AND user_id = ? AND group_key = ? AND actor_id = ?`,
      ),
      deleteActor: sqlite.prepare(
        'DELETE FROM inbox_group_actors WHERE tenant_id = ? AND user_id = ? AND group_key = ? AND actor_id = ?',
      ),
      newest: sqlite.prepare(
        `SELECT actor_id AS actorId, at FROM inbox_group_actors
         WHERE tenant_id = ? AND user_id = ? AND group_key = ? ORDER BY at DESC LIMIT ${GROUP_ACTORS_SHOWN}`,
      ),
      dropActors: sqlite.prepare(
        'DELETE FROM inbox_group_actors WHERE tenant_id = ? AND user_id = ? AND group_key = ?',
      ),
    };
  }

  /**
   * Folds grouped rows into their groups; the caller holds the transaction. Returns how many
   * rows brought a new distinct actor.
   */
  put(rows: readonly InboxRow[]): number {
    const byGroup = new Map<string, InboxRow[]>();
    for (const row of rows) {
      const key = `${row.tenantId}\u0000${row.userId}\u0000${row.groupKey}`;
      const list = byGroup.get(key);
      if (list === undefined) byGroup.set(key, [row]);
      else list.push(row);
    }
    let joined = 0;
    for (const members of byGroup.values()) joined += this.#putGroup(members);
    return joined;
  }

  /**
   * Takes `actorId` out of the group when it is there through `eventId`; the item loses it (its
   * newest actors are read again) and disappears when no actor is left. Caller holds the
   * transaction.
   */
  retract(user: UserKey, groupKey: string, actorId: string, eventId: string): GroupRetraction {
    const { tenantId, userId } = user;
    const found = this.#retract.findActor.get(tenantId, userId, groupKey, actorId) as
      | { event_id: string }
      | undefined;
    if (found?.event_id !== eventId) return { removed: false, emptied: false };
    this.#retract.deleteActor.run(tenantId, userId, groupKey, actorId);
    const group = this.#s.group.get(tenantId, userId, groupKey) as GroupState | undefined;
    if (group === undefined) return { removed: true, emptied: false };
    const count = group.actor_count - 1;
    if (count <= 0) {
      this.#s.deleteRow.run(tenantId, userId, group.row_id);
      this.#s.dropGroup.run(tenantId, userId, groupKey);
      this.#retract.dropActors.run(tenantId, userId, groupKey);
      return { removed: true, emptied: true };
    }
    const shown = this.#retract.newest.all(tenantId, userId, groupKey) as unknown as Shown[];
    const actors = shownJson(shown);
    this.#s.updateRow.run(0, count, actors, tenantId, userId, group.row_id);
    this.#s.saveGroup.run(tenantId, userId, groupKey, group.row_id, count, actors);
    return { removed: true, emptied: false };
  }

  /**
   * Drops up to `limit` groups whose item is older than `bound` (the TTL purge took or will take
   * their row), with their actors; caller holds the transaction. Returns how many it dropped.
   */
  purge(bound: string, limit: number): number {
    const groups = this.#expired.all(bound, limit) as {
      tenant_id: string;
      user_id: string;
      group_key: string;
    }[];
    for (const g of groups) {
      this.#retract.dropActors.run(g.tenant_id, g.user_id, g.group_key);
      this.#s.dropGroup.run(g.tenant_id, g.user_id, g.group_key);
    }
    return groups.length;
  }

  #putGroup(members: readonly InboxRow[]): number {
    const first = members[0]!;
    const { tenantId, userId } = first;
    const groupKey = first.groupKey!;
    const joined: InboxRow[] = [];
    for (const row of members) {
      const added = this.#s.actor.run(tenantId, userId, groupKey, row.actorId, row.eventId, row.createdAt);
      if (added.changes > 0) joined.push(row);
    }
    if (joined.length === 0) return 0;
    const group = this.#s.group.get(tenantId, userId, groupKey) as GroupState | undefined;
    let newest = joined[0]!;
    for (const row of joined) if (row.id > newest.id) newest = row;
    const count = (group?.actor_count ?? 0) + joined.length;
    const shown = newestActors(
      group === undefined
        ? []
        : (JSON.parse(group.actors) as [string, number][]).map(([actorId, at]) => ({ actorId, at })),
      joined.map((row) => ({ actorId: row.actorId, at: row.createdAt })),
    );
    const actors = shownJson(shown);
    // The row stays where it is when the news is older than it and the row is still there.
    const stays =
      group !== undefined &&
      group.row_id >= newest.id &&
      this.#s.row.get(tenantId, userId, group.row_id) !== undefined;
    if (stays) {
      this.#s.updateRow.run(1, count, actors, tenantId, userId, group.row_id);
      this.#s.saveGroup.run(tenantId, userId, groupKey, group.row_id, count, actors);
      return joined.length;
    }
    if (group !== undefined) this.#s.deleteRow.run(tenantId, userId, group.row_id);
    this.#insertRow(newest, count, actors);
    this.#s.saveGroup.run(tenantId, userId, groupKey, newest.id, count, actors);
    return joined.length;
  }

  #insertRow(row: InboxRow, count: number, actors: string): void {
    this.#s.insertRow.run(
      row.tenantId,
      row.userId,
      row.id,
      row.eventId,
      row.type,
      row.category,
      row.actorId,
      row.objectId ?? null,
      payloadJson(row.data),
      row.createdAt,
      0,
      row.source ?? null,
      row.groupKey!,
      count,
      actors,
    );
  }
}

/** The shown actors as stored: `[[actor, at], …]`, newest first. */
function shownJson(shown: readonly Shown[]): string {
  return JSON.stringify(shown.map((a) => [a.actorId, a.at]));
}

/** The actor ids of a stored `actors` column, newest first. */
export function shownActors(json: string): string[] {
  return (JSON.parse(json) as [string, number][]).map(([actorId]) => actorId);
}
