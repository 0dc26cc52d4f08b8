import { describe, expect, it } from 'vitest';
import { readAuditLog, verifyAuditLog } from '../../src/adapters/embedded/audit-log.ts';
import type { AuditRecord } from '../../src/domain/audit-types.ts';
import type { AuthorEvent } from '../../src/domain/types.ts';
import { createUnsubscribeTokens } from '../../src/domain/unsubscribe.ts';
import type { EmailMessage } from '../../src/ports/transports.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { Pipeline } from '../../src/runtime/pipeline.ts';
import { consenting, testClock } from '../support/world.ts';

/** 2026-05-01 10:20 UTC. */
const NOW = Date.UTC(2026, 4, 1, 10, 20);
const ANA = { tenantId: 'acme', userId: 'ana' };

function event(id: string, type: string, actorId: string, at: number): AuthorEvent {
  return {
    tenantId: 'acme',
    id,
    type,
    actorId,
    objectId: 'p1',
    recipients: ['ana'],
    occurredAt: at,
    acceptedAt: at,
  };
}

describe('email digests in the embedded pipeline', () => {
  it('holds the emails of an hourly category and sends one digest once the hour is over', async () => {
    // Prepare
    const clock = testClock(NOW);
    const sent: EmailMessage[] = [];
    const ports = await openEmbeddedPorts({
      config: readRuntimeConfig({ FANOUT_DATA_DIR: ':memory:', FANOUT_LOG_LEVEL: 'silent' }),
      clock,
      emailFault: (message) => {
        sent.push(message);
        return undefined;
      },
    });
    const tokens = createUnsubscribeTokens('pipeline-digest-secret-0123456789');
    const pipeline = new Pipeline(ports, {
      retryBaseMs: 5,
      deadLetterAudit: false,
      // The run at start finds nothing due; the test runs the sender itself after moving the clock.
      emailDigests: { intervalMs: 3_600_000 },
      unsubscribe: { baseUrl: 'https://api.example.com', tokens },
    });
    try {
      await ports.preferences.put(consenting(ANA, { emailCadence: { social: 'hourly' } }));
      await pipeline.start();
      // Act: two comments (emailed) and three likes of one post (one aggregated inbox item).
      await ports.log.append([
        event('c1', 'comment', 'bob', NOW),
        event('c2', 'comment', 'carol', NOW + 1),
        event('l1', 'like', 'dan', NOW + 2),
        event('l2', 'like', 'eve', NOW + 3),
        event('l3', 'like', 'fay', NOW + 4),
      ]);
      await pipeline.drained({ pollMs: 5 });
      const before = sent.length;
      const early = await pipeline.sendDueDigests();
      clock.set(Date.UTC(2026, 4, 1, 11));
      const due = await pipeline.sendDueDigests();
      const again = await pipeline.sendDueDigests();
      // Assess
      expect(before).toBe(0);
      expect(early.due).toBe(0);
      expect(due).toMatchObject({ due: 1, sent: 1 });
      expect(again.due).toBe(0);
      expect(sent).toHaveLength(1);
      const mail = sent[0]!;
      expect(mail.subject).toBe('3 new notifications');
      expect(mail.text).toContain('- fay, eve, and dan liked your post');
      expect(mail.text).toContain('- carol commented on your post');
      expect(mail.text).toContain('- bob commented on your post');
      expect(mail.headers?.['List-Unsubscribe']).toMatch(
        /^<https:\/\/api\.example\.com\/v1\/unsubscribe\?token=/,
      );
      const records: AuditRecord[] = [];
      for await (const r of readAuditLog(ports.auditDir)) records.push(r);
      const email = records.filter((r) => r.channel === 'email').map((r) => `${r.outcome}:${r.reason ?? ''}`);
      expect(email).toEqual(['digested:email_digest', 'digested:email_digest', 'sent:email_digest']);
      expect((await verifyAuditLog(ports.auditDir)).valid).toBe(true);
    } finally {
      await pipeline.stop();
      await ports.close();
    }
  });
});
