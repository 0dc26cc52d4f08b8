import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit-types.ts';
import { ValidationError } from '../../src/domain/errors.ts';
import { Outcome } from '../../src/domain/types.ts';
import type { AuditSink } from '../../src/ports/audit-sink.ts';

/** What a suite run needs: a fresh, empty sink per test, and a way to read back what it stored. */
export interface AuditSinkHarness {
  readonly sink: AuditSink;
  /** Every entry the sink stored, in the order it stored them, without chain or delivery fields. */
  stored(): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

function entry(i: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    at: 1_700_000_000_000 + i,
    tenantId: 'tenant-1',
    userId: `user-${i}`,
    channel: 'push',
    notificationId: `01HF7YAT0062QBZN3ZRXDW${String(i).padStart(4, '0')}`,
    eventId: `event-${i}`,
    outcome: Outcome.Sent,
    ...extra,
  };
}

/** The AuditSink port's contract: every decision stored once, in order, with nothing extra. */
export function auditSinkContract(name: string, make: () => Promise<AuditSinkHarness>): void {
  describe(`AuditSink contract: ${name}`, () => {
    let h: AuditSinkHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('stores every entry of every append, in order', async () => {
      // Prepare
      const first = [entry(1), entry(2, { outcome: Outcome.SuppressedQuietHours, reason: 'quiet_hours' })];
      const second = [
        entry(3, { outcome: Outcome.Sent, target: 'ffe054fe7ae0cb6d', ambiguous: true, attempt: 2 }),
      ];
      // Act
      await h.sink.append(first);
      await h.sink.append(second);
      // Assess
      expect(await h.stored()).toEqual([...first, ...second]);
    });

    it('keeps the order of appends that were not awaited one by one', async () => {
      // Prepare
      const batches = Array.from({ length: 20 }, (_, b) =>
        Array.from({ length: 5 }, (_, i) => entry(b * 5 + i)),
      );
      // Act
      await Promise.all(batches.map((batch) => h.sink.append(batch)));
      // Assess
      expect((await h.stored()).map((e) => e.eventId)).toEqual(batches.flat().map((e) => e.eventId));
    });

    it('stores nothing for an empty append', async () => {
      // Act
      await h.sink.append([]);
      // Assess
      expect(await h.stored()).toEqual([]);
    });

    it('stores only the fields of an entry, never extra properties such as a token', async () => {
      // Prepare
      const leaky = { ...entry(1), token: 'device-token-secret', payload: { text: 'hi' } } as AuditEntry;
      // Act
      await h.sink.append([leaky]);
      // Assess
      const [stored] = await h.stored();
      expect(stored).toEqual(entry(1));
      expect(JSON.stringify(stored)).not.toContain('device-token-secret');
    });

    it('rejects a batch with an invalid entry and stores none of it', async () => {
      // Prepare
      const batch = [entry(1), { ...entry(2), outcome: 'vanished' as Outcome }];
      // Act
      const result = h.sink.append(batch);
      // Assess
      await expect(result).rejects.toBeInstanceOf(ValidationError);
      expect(await h.stored()).toEqual([]);
    });

    it('rejects what is not an array of entries', async () => {
      // Act / Assess
      await expect(h.sink.append(entry(1) as unknown as AuditEntry[])).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(h.sink.append([null as unknown as AuditEntry])).rejects.toBeInstanceOf(ValidationError);
      await expect(h.sink.append([{ ...entry(1), at: Number.POSITIVE_INFINITY }])).rejects.toBeInstanceOf(
        ValidationError,
      );
      expect(await h.stored()).toEqual([]);
    });
  });
}
