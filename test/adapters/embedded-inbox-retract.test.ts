import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedInbox } from '../../src/adapters/embedded/inbox.ts';

const NOW = Date.UTC(2026, 4, 1);
let db: EmbeddedDb | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
});

describe('EmbeddedInbox retraction tombstones', () => {
  it('are purged with expired rows once their expiry has passed, and not before', async () => {
    // Prepare
    db = new EmbeddedDb({ path: ':memory:' });
    const inbox = new EmbeddedInbox({ db });
    const ref = (eventId: string) => ({ eventId, actorId: 'ana' });
    await inbox.recordRetraction('acme', ref('old'), NOW - 1);
    await inbox.recordRetraction('acme', ref('young'), NOW + 1);
    // A later expiry recorded again wins over the earlier one
    await inbox.recordRetraction('acme', ref('renewed'), NOW - 1);
    await inbox.recordRetraction('acme', ref('renewed'), NOW + 1);
    await inbox.recordRetraction('acme', ref('renewed'), NOW - 5);
    // Act
    await inbox.purgeExpired(NOW);
    // Assess
    const left = await inbox.retractedAmong('acme', [ref('old'), ref('young'), ref('renewed')]);
    expect(left).toEqual(new Set(['young', 'renewed']));
  });
});
