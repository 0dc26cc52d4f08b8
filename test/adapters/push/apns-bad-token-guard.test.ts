import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadTokenGuard } from '../../../src/adapters/push/apns/bad-token-guard.ts';
import { type ApnsBench, apnsBench, pushMessage } from './apns-fixture.ts';

describe('BadTokenGuard', () => {
  it('trips only once enough answers were seen and most of them were BadDeviceToken', () => {
    const guard = new BadTokenGuard({ window: 10, minSamples: 4, maxShare: 0.5 });
    for (let i = 0; i < 3; i++) guard.record(true);
    expect(guard.tripped).toBe(false); // too few answers to judge
    guard.record(true);
    expect(guard.tripped).toBe(true);
  });

  it('lifts by itself once good answers push the share down, over a sliding window', () => {
    const guard = new BadTokenGuard({ window: 10, minSamples: 4, maxShare: 0.5 });
    for (let i = 0; i < 10; i++) guard.record(true);
    expect(guard.tripped).toBe(true);
    for (let i = 0; i < 5; i++) guard.record(false);
    expect(guard.tripped).toBe(false); // 5 bad of the last 10: not more than half
    // New BadDeviceToken answers first push out the oldest (bad) ones: still 5 of 10 ...
    for (let i = 0; i < 5; i++) guard.record(true);
    expect(guard.tripped).toBe(false);
    // ... until the window slides past the good ones.
    guard.record(true);
    expect(guard.tripped).toBe(true);
  });

  it('never trips on a realistic share of dead tokens', () => {
    const guard = new BadTokenGuard();
    for (let i = 0; i < 10_000; i++) guard.record(i % 10 === 0);
    expect(guard.tripped).toBe(false);
  });
});

describe('ApnsTransport with a wrong environment (every token answers BadDeviceToken)', () => {
  let bench: ApnsBench;
  beforeAll(async () => {
    bench = await apnsBench();
  });
  afterAll(async () => {
    await bench.close();
  });

  it('deactivates the first devices, then keeps the rest and says why in an error log', async () => {
    // Prepare
    const apns = bench.transport();
    const messages = Array.from({ length: 80 }, () => pushMessage());
    for (const m of messages) bench.fake.script(m.token, { status: 400, reason: 'BadDeviceToken' });
    // Act: one at a time, so the order of the answers is the order of the messages.
    const results = [];
    for (const m of messages) results.push(await apns.send(m));
    // Assess
    const deactivated = results.map((r) => r.status === 'rejected' && r.deactivateDevice);
    expect(results.every((r) => r.status === 'rejected' && r.reason === 'BadDeviceToken')).toBe(true);
    // The default guard judges after 50 answers: the first 49 look like ordinary dead tokens.
    expect(deactivated.slice(0, 49).every(Boolean)).toBe(true);
    expect(deactivated.slice(49).some(Boolean)).toBe(false);
    const errors = bench.logger.lines.filter((l) => l.level === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(errors)).toMatch(/environment/);
    expect(JSON.stringify(bench.logger.lines)).not.toContain(messages[0]!.token);
  });
});
