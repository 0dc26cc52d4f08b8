import { ConflictError } from '../domain/errors.ts';
import { applyPreferencesPatch } from '../domain/preferences-patch.ts';
import type { Preferences, UserKey } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { PreferenceStore } from '../ports/preferences.ts';

/** Read-modify-write rounds before a conflict is given up on (each loses only to a concurrent write). */
export const PATCH_ATTEMPTS = 3;

export interface PatchPreferencesDeps {
  readonly preferences: PreferenceStore;
  readonly clock: Clock;
}

/**
 * Merges an end user's patch into their stored preferences and writes the result only over the
 * record it read: a tenant's write landing in between is kept and the patch applied again on top
 * of it. Throws ValidationError (nothing written) on bad input, ConflictError when every round
 * lost to another writer.
 */
export async function patchPreferences(
  user: UserKey,
  patch: unknown,
  deps: PatchPreferencesDeps,
): Promise<Preferences> {
  for (let attempt = 1; ; attempt++) {
    const current = await deps.preferences.get(user);
    // Never stamped earlier than what it replaces: the condition of the next write reads it.
    const now = Math.max(deps.clock.now(), (current?.updatedAt ?? 0) + 1);
    const next = applyPreferencesPatch(current, patch, user, now);
    try {
      // No record yet: only a first write, so a tenant's record created since is not replaced.
      await deps.preferences.put(
        next,
        current === undefined ? { ifAbsent: true } : { ifUpdatedAt: current.updatedAt },
      );
      return next;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= PATCH_ATTEMPTS) throw err;
    }
  }
}
