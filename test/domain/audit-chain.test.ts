import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChainHead,
  EMPTY_CHAIN,
  formatAuditLine,
  GENESIS_HASH,
  parseAuditLine,
  sealAuditLines,
  sealAuditRecord,
  verifyAuditRecords,
} from '../../src/domain/audit-chain.ts';
import type { AuditEntry, AuditRecord } from '../../src/domain/audit-types.ts';
import { ValidationError } from '../../src/domain/errors.ts';
import { Outcome } from '../../src/domain/types.ts';

function entry(i: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    at: 1_700_000_000_000 + i,
    tenantId: 'tenant-1',
    userId: `user-${i}`,
    channel: i % 2 === 0 ? 'push' : 'email',
    notificationId: `01HF7YAT0062QBZN3ZRXDW${String(i).padStart(4, '0')}`,
    eventId: `event-${i}`,
    outcome: Outcome.Sent,
    ...extra,
  };
}

function chain(n: number, start: ChainHead = EMPTY_CHAIN): AuditRecord[] {
  const records: AuditRecord[] = [];
  let head = start;
  for (let i = 0; i < n; i++) {
    const record = sealAuditRecord(head, entry(i, i % 3 === 0 ? { target: 'abcd', attempt: 1 } : {}));
    records.push(record);
    head = record;
  }
  return records;
}

/** Expects a broken chain and returns where it broke. */
function brokenAt(records: readonly AuditRecord[]): number {
  const check = verifyAuditRecords(records);
  if (check.valid) throw new Error('expected a broken chain');
  return check.brokenAtSeq;
}

describe('audit chain', () => {
  it('links the first record to the genesis hash and each next one to the previous', () => {
    // Act
    const [first, second] = chain(2);
    // Assess
    expect(first!.seq).toBe(1);
    expect(first!.prev).toBe(GENESIS_HASH);
    expect(second!.seq).toBe(2);
    expect(second!.prev).toBe(first!.hash);
    expect(first!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes prev followed by the canonical JSON in the fixed key order, optionals omitted', () => {
    // Prepare
    const e = entry(7, { reason: 'quiet_hours', ambiguous: false, attempt: 2 });
    // Act
    const record = sealAuditRecord(EMPTY_CHAIN, e);
    // Assess
    const canonical = JSON.stringify({
      seq: 1,
      prev: GENESIS_HASH,
      at: e.at,
      tenantId: e.tenantId,
      userId: e.userId,
      channel: e.channel,
      notificationId: e.notificationId,
      eventId: e.eventId,
      outcome: e.outcome,
      reason: 'quiet_hours',
      ambiguous: false,
      attempt: 2,
    });
    expect(record.hash).toBe(
      createHash('sha256')
        .update(GENESIS_HASH + canonical)
        .digest('hex'),
    );
    expect(formatAuditLine(record)).toBe(`${canonical.slice(0, -1)},"hash":"${record.hash}"}`);
  });

  it('keeps only the fields of an entry, not extra properties a caller passed along', () => {
    // Prepare
    const e = { ...entry(1), token: 'secret-device-token' } as AuditEntry;
    // Act
    const record = sealAuditRecord(EMPTY_CHAIN, e);
    // Assess
    expect(record).not.toHaveProperty('token');
    expect(formatAuditLine(record)).not.toContain('secret-device-token');
  });

  it('verifies a long chain and returns its head', () => {
    // Prepare
    const records = chain(5000);
    // Act
    const check = verifyAuditRecords(records);
    // Assess
    expect(check).toEqual({ valid: true, head: { seq: 5000, hash: records.at(-1)!.hash } });
  });

  it('verifies a chain continued from a head, as files after the first are', () => {
    // Prepare
    const first = chain(10);
    const head = { seq: 10, hash: first.at(-1)!.hash };
    const rest = chain(10, head);
    // Act
    const check = verifyAuditRecords(rest, head);
    // Assess
    expect(check.valid).toBe(true);
    expect(rest[0]!.seq).toBe(11);
    expect(verifyAuditRecords(rest).valid).toBe(false);
  });

  it('catches a changed field at that record', () => {
    // Prepare
    const records = chain(20);
    records[11] = { ...records[11]!, outcome: Outcome.SuppressedNoConsent };
    // Act / Assess
    expect(brokenAt(records)).toBe(12);
  });

  it('catches a deleted record at the missing seq', () => {
    // Prepare
    const records = chain(20);
    records.splice(6, 1);
    // Act / Assess
    expect(brokenAt(records)).toBe(7);
  });

  it('catches two records swapped at the first of them', () => {
    // Prepare
    const records = chain(20);
    [records[3], records[4]] = [records[4]!, records[3]!];
    // Act / Assess
    expect(brokenAt(records)).toBe(4);
  });

  it('catches an inserted record at the position it was inserted', () => {
    // Prepare
    const records = chain(20);
    const forged = sealAuditRecord({ seq: 9, hash: records[8]!.hash }, entry(99));
    records.splice(9, 0, forged);
    // Act / Assess: the forgery links, but the original 10th record no longer does
    expect(brokenAt(records)).toBe(11);
  });

  it('catches a copied line at the position of the copy', () => {
    // Prepare
    const records = chain(20);
    records.splice(5, 0, records[4]!);
    // Act / Assess
    expect(brokenAt(records)).toBe(6);
  });

  it('catches a replaced hash even when the next record is relinked to it', () => {
    // Prepare
    const records = chain(20);
    const fake = 'f'.repeat(64);
    records[14] = { ...records[14]!, hash: fake };
    records[15] = { ...records[15]!, prev: fake };
    // Act / Assess
    expect(brokenAt(records)).toBe(15);
  });

  it('reports the last good head when it breaks', () => {
    // Prepare
    const records = chain(5);
    records[2] = { ...records[2]!, userId: 'someone-else' };
    // Act
    const check = verifyAuditRecords(records);
    // Assess
    expect(check.valid).toBe(false);
    expect(check.head).toEqual({ seq: 2, hash: records[1]!.hash });
  });

  it('round-trips every record through its line', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            at: fc.integer({ min: 0, max: 2 ** 45 }),
            tenantId: fc.string({ minLength: 1 }),
            userId: fc.string({ minLength: 1 }),
            channel: fc.constantFrom('push' as const, 'email' as const),
            notificationId: fc.string({ minLength: 1 }),
            eventId: fc.string({ minLength: 1 }),
            outcome: fc.constantFrom(...Object.values(Outcome)),
            reason: fc.string(),
            target: fc.string(),
            ambiguous: fc.boolean(),
            attempt: fc.nat(),
          },
          { requiredKeys: ['at', 'tenantId', 'userId', 'channel', 'notificationId', 'eventId', 'outcome'] },
        ),
        (e) => {
          // Act
          const record = sealAuditRecord(EMPTY_CHAIN, e);
          const parsed = parseAuditLine(formatAuditLine(record));
          // Assess
          expect(parsed).toEqual(record);
          expect(verifyAuditRecords([parsed]).valid).toBe(true);
        },
      ),
    );
  });

  it('refuses to seal an entry whose fields would not survive the line format', () => {
    // Act / Assess
    expect(() => sealAuditRecord(EMPTY_CHAIN, entry(1, { at: Number.NaN }))).toThrow(ValidationError);
    expect(() => sealAuditRecord(EMPTY_CHAIN, entry(1, { channel: 'sms' as 'push' }))).toThrow(
      ValidationError,
    );
    expect(() => sealAuditRecord(EMPTY_CHAIN, entry(1, { outcome: 'lost' as Outcome }))).toThrow(
      ValidationError,
    );
    expect(() => sealAuditRecord(EMPTY_CHAIN, entry(1, { tenantId: '' }))).toThrow(ValidationError);
    expect(() => sealAuditRecord(EMPTY_CHAIN, entry(1, { attempt: 1.5 }))).toThrow(ValidationError);
  });

  it('seals a batch straight into the lines record-by-record sealing and formatting give', () => {
    // Prepare
    const start = { seq: 41, hash: 'a'.repeat(64) };
    const entries = [0, 1, 2, 3].map((i) =>
      entry(
        i,
        i % 2 === 0 ? { target: 't"\\\u2028', attempt: 2, ambiguous: true, reason: 'why', items: 3 } : {},
      ),
    );
    const records = chain(0);
    let head: ChainHead = start;
    for (const e of entries) {
      const record = sealAuditRecord(head, e);
      records.push(record);
      head = record;
    }
    // Act
    const sealed = sealAuditLines(start, entries);
    // Assess
    expect(sealed.text).toBe(records.map((r) => `${formatAuditLine(r)}\n`).join(''));
    expect(sealed.head).toEqual({ seq: 45, hash: records.at(-1)!.hash });
    expect(verifyAuditRecords(sealed.text.trimEnd().split('\n').map(parseAuditLine), start).valid).toBe(true);
  });

  it('seals no line of a batch that holds an invalid entry, and names the bad field', () => {
    // Act
    const attempt = () => sealAuditLines(EMPTY_CHAIN, [entry(1), entry(2, { attempt: -1 })]);
    // Assess
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/attempt/);
  });

  it('rejects lines that are not JSON objects', () => {
    // Act / Assess
    expect(() => parseAuditLine('{"seq":1,')).toThrow(ValidationError);
    expect(() => parseAuditLine('[1,2]')).toThrow(ValidationError);
    expect(() => parseAuditLine('null')).toThrow(ValidationError);
  });

  it('rejects unknown keys and wrong types, naming each field', () => {
    // Prepare
    const line = formatAuditLine(sealAuditRecord(EMPTY_CHAIN, entry(1)));
    const withExtra = `${line.slice(0, -1)},"payload":"x"}`;
    const wrongTypes = line.replace('"seq":1', '"seq":"1"').replace(/"at":\d+/, '"at":"yesterday"');
    // Act
    const errors = [withExtra, wrongTypes].map((l) => {
      try {
        parseAuditLine(l);
        return undefined;
      } catch (err) {
        return err;
      }
    });
    // Assess
    expect(errors[0]).toBeInstanceOf(ValidationError);
    expect((errors[0] as ValidationError).issues.map((i) => i.path)).toEqual(['payload']);
    expect(errors[1]).toBeInstanceOf(ValidationError);
    expect((errors[1] as ValidationError).issues.map((i) => i.path).sort()).toEqual(['at', 'seq']);
  });

  it('rejects a malformed hash or prev', () => {
    // Prepare
    const line = formatAuditLine(sealAuditRecord(EMPTY_CHAIN, entry(1)));
    // Act / Assess
    expect(() => parseAuditLine(line.replace(/"hash":"[0-9a-f]+"/, '"hash":"ABC"'))).toThrow(ValidationError);
    expect(() => parseAuditLine(line.replace(`"prev":"${GENESIS_HASH}"`, '"prev":7'))).toThrow(
      ValidationError,
    );
  });
});
