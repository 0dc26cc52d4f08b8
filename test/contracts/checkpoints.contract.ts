import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import { type Checkpoints, compareSequence } from '../../src/ports/event-log.ts';

/** What a suite run needs: fresh, empty checkpoints per test. */
export interface CheckpointsHarness {
  readonly checkpoints: Checkpoints;
  close(): Promise<void>;
}

/** The Checkpoints port's contract: a consumer's position per shard, which only moves forward. */
export function checkpointsContract(name: string, make: () => Promise<CheckpointsHarness>): void {
  describe(`Checkpoints contract: ${name}`, () => {
    let h: CheckpointsHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('has no position before the first set', async () => {
      // Act
      const position = await h.checkpoints.get('fanout', 'shardId-000000000000');
      // Assess
      expect(position).toBeUndefined();
    });

    it('returns the position last set', async () => {
      // Act
      await h.checkpoints.set('fanout', 'shard-a', '0005');
      await h.checkpoints.set('fanout', 'shard-a', '0007');
      // Assess
      expect(await h.checkpoints.get('fanout', 'shard-a')).toBe('0007');
    });

    it('never moves backwards', async () => {
      // Prepare
      await h.checkpoints.set('fanout', 'shard-a', '0007');
      // Act
      await h.checkpoints.set('fanout', 'shard-a', '0003');
      await h.checkpoints.set('fanout', 'shard-a', '0007');
      // Assess
      expect(await h.checkpoints.get('fanout', 'shard-a')).toBe('0007');
    });

    it('orders sequence numbers by length first, as compareSequence does', async () => {
      // Act
      await h.checkpoints.set('fanout', 'shard-a', '99');
      await h.checkpoints.set('fanout', 'shard-a', '100');
      await h.checkpoints.set('fanout', 'shard-a', '999');
      await h.checkpoints.set('fanout', 'shard-a', '98');
      // Assess
      expect(await h.checkpoints.get('fanout', 'shard-a')).toBe('999');
    });

    it('keeps each (consumer, shard) separate', async () => {
      // Act
      await h.checkpoints.set('fanout', 'shard-a', '10');
      await h.checkpoints.set('fanout', 'shard-b', '20');
      await h.checkpoints.set('audit', 'shard-a', '30');
      // Assess
      expect(await h.checkpoints.get('fanout', 'shard-a')).toBe('10');
      expect(await h.checkpoints.get('fanout', 'shard-b')).toBe('20');
      expect(await h.checkpoints.get('audit', 'shard-a')).toBe('30');
      expect(await h.checkpoints.get('audit', 'shard-b')).toBeUndefined();
    });

    it('ends at the greatest position of any sequence of sets', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.bigInt({ min: 0n, max: 10n ** 40n }), { minLength: 1, maxLength: 20 }),
          async (ns) => {
            // Prepare
            const shard = `shard-${run++}`;
            const positions = ns.map(String);
            // Act
            for (const p of positions) await h.checkpoints.set('fanout', shard, p);
            // Assess
            const greatest = [...positions].sort(compareSequence).at(-1);
            expect(await h.checkpoints.get('fanout', shard)).toBe(greatest);
          },
        ),
        { numRuns: 30 },
      );
    });

    it('rejects an empty consumer, shard or position', async () => {
      // Act / Assess
      await expect(h.checkpoints.set('', 'shard-a', '1')).rejects.toBeInstanceOf(ValidationError);
      await expect(h.checkpoints.set('fanout', '', '1')).rejects.toBeInstanceOf(ValidationError);
      await expect(h.checkpoints.set('fanout', 'shard-a', '')).rejects.toBeInstanceOf(ValidationError);
      await expect(h.checkpoints.get('', 'shard-a')).rejects.toBeInstanceOf(ValidationError);
    });
  });
}
