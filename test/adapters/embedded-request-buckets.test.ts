import { describe, expect, it } from 'vitest';
import { MemoryRequestBuckets } from '../../src/runtime/memory-request-buckets.ts';
import { manualClock } from '../contracts/dedup-store.contract.ts';
import { requestBucketsContract } from '../contracts/request-buckets.contract.ts';

requestBucketsContract('embedded (process memory)', async () => {
  const clock = manualClock();
  return { store: new MemoryRequestBuckets({ now: () => clock.now() }), clock, close: async () => {} };
});

describe('MemoryRequestBuckets', () => {
  it('drops idle full buckets rather than growing without bound', () => {
    // Prepare
    let now = 0;
    const buckets = new MemoryRequestBuckets({ now: () => now });
    const rate = { perSecond: 1, burst: 1 };
    for (let i = 0; i < 100_000; i++) buckets.takeNow([{ group: 't', name: `user#${i}`, rate }]);
    // Act: a second later every bucket is full again; the next new one sweeps them.
    now += 1_000;
    buckets.takeNow([{ group: 't', name: 'user#new', rate }]);
    // Assess
    expect(buckets.size).toBe(1);
  });
});
