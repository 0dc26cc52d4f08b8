import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { UserKey } from '../../domain/types.ts';
import type { InboxGroup } from '../../ports/inbox.ts';
import { shownActors } from './inbox-groups.ts';
import { storeStep } from './store-step.ts';

/** `Inbox.group` on SQLite: the group's row of `inbox_groups` (inbox-groups.ts keeps it exact). */
export class EmbeddedGroupRead {
  readonly #get: StatementSync;

  constructor(sqlite: DatabaseSync) {
    this.#get = sqlite.prepare(
      'SELECT row_id, actor_count, actors FROM inbox_groups WHERE tenant_id = ? AND user_id = ? AND group_key = ?',
    );
  }

  read(user: UserKey, groupKey: string): InboxGroup | undefined {
    const row = storeStep('inbox group read', () => this.#get.get(user.tenantId, user.userId, groupKey)) as
      | { row_id: string; actor_count: number; actors: string }
      | undefined;
    if (row === undefined || row.actor_count <= 0) return undefined;
    return { id: row.row_id, actorCount: row.actor_count, actors: shownActors(row.actors) };
  }
}
