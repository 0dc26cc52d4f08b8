import type { TenantId, UserId, UserKey } from '../domain/types.ts';

/**
 * What the write side tells the live inbox: which inboxes may have changed. Calls are hints, not
 * data: a watcher that hears one re-reads the inbox through the ports, so a lost or extra call
 * costs at most a fallback poll or one read. Implementations return at once and never throw, so
 * the fan-out path is never slowed or failed by a browser tab.
 */
export interface InboxChanges {
  /** Fan-out wrote inbox rows for these users (after `inbox.putMany`). */
  rowsWritten(tenantId: TenantId, userIds: readonly UserId[]): void;
  /** A celebrity pointer of this author was written (after `feed.put`): its followers catch it up. */
  pointerWritten(tenantId: TenantId, authorId: UserId): void;
  /** The user's read state changed (read, read-all): their unread count may have moved. */
  readStateChanged(user: UserKey): void;
}

/** One open watch of one user's inbox. */
export interface InboxWatch {
  /**
   * The celebrities whose pointers this user catches up on; a pointer from one of them wakes the
   * watch. Replaces the previous list (the watcher refreshes it now and then as it reads).
   */
  setAuthors(authorIds: readonly UserId[]): void;
  /** Stops the wake-ups. Idempotent. */
  close(): void;
}

interface Watcher {
  readonly wake: () => void;
  authors: readonly string[];
}

/**
 * In-process fan-in of inbox changes to the live streams open on this process. Wake-ups are
 * indexed by user and by followed celebrity within a tenant, so a change reaches only the watches
 * of that tenant's affected users.
 */
export class InboxNotifier implements InboxChanges {
  readonly #byUser = new Map<string, Set<Watcher>>();
  readonly #byAuthor = new Map<string, Set<Watcher>>();

  /** Calls `wake` whenever this user's inbox or read state may have changed, until closed. */
  watch(user: UserKey, wake: () => void): InboxWatch {
    const watcher: Watcher = { wake, authors: [] };
    const userKey = key(user.tenantId, user.userId);
    add(this.#byUser, userKey, watcher);
    let open = true;
    return {
      setAuthors: (authorIds) => {
        if (!open) return;
        for (const k of watcher.authors) remove(this.#byAuthor, k, watcher);
        watcher.authors = [...new Set(authorIds)].map((a) => key(user.tenantId, a));
        for (const k of watcher.authors) add(this.#byAuthor, k, watcher);
      },
      close: () => {
        if (!open) return;
        open = false;
        remove(this.#byUser, userKey, watcher);
        for (const k of watcher.authors) remove(this.#byAuthor, k, watcher);
      },
    };
  }

  /** Open watches, for the ops page and for tests that check nothing leaks. */
  get watches(): number {
    let n = 0;
    for (const set of this.#byUser.values()) n += set.size;
    return n;
  }

  rowsWritten(tenantId: TenantId, userIds: readonly UserId[]): void {
    // Fan-out writes pages of thousands of rows; only the few users with an open stream matter.
    if (this.#byUser.size === 0) return;
    for (const userId of userIds) wakeAll(this.#byUser.get(key(tenantId, userId)));
  }

  pointerWritten(tenantId: TenantId, authorId: UserId): void {
    wakeAll(this.#byAuthor.get(key(tenantId, authorId)));
  }

  readStateChanged(user: UserKey): void {
    wakeAll(this.#byUser.get(key(user.tenantId, user.userId)));
  }
}

/** Length-prefixed so that no (tenant, user) pair can collide with another. */
function key(tenantId: string, userId: string): string {
  return `${tenantId.length}:${tenantId}${userId}`;
}

function add(index: Map<string, Set<Watcher>>, k: string, watcher: Watcher): void {
  let set = index.get(k);
  if (set === undefined) {
    set = new Set();
    index.set(k, set);
  }
  set.add(watcher);
}

function remove(index: Map<string, Set<Watcher>>, k: string, watcher: Watcher): void {
  const set = index.get(k);
  if (set === undefined) return;
  set.delete(watcher);
  if (set.size === 0) index.delete(k);
}

function wakeAll(watchers: ReadonlySet<Watcher> | undefined): void {
  if (watchers === undefined) return;
  for (const w of [...watchers]) {
    try {
      w.wake();
    } catch {
      // A watcher's failure is its own (its stream re-reads on the next poll); the writer goes on.
    }
  }
}
