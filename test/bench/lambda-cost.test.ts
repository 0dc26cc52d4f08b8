import { describe, expect, it } from 'vitest';
import { AWS_PRICES } from '../../bench/aws-prices.ts';
import { LAMBDA_MEMORY_MB, lambdaBill } from '../../bench/lambda-cost.ts';

describe('lambdaBill', () => {
  it('prices CPU at the memory share of a vCPU plus the network waits, per started ms', () => {
    // Prepare: 10 push invocations of 10 jobs, 100 ms of CPU and 20 requests in all
    const usage = { push: { invocations: 10, records: 100, cpuMs: 100, requests: 20 } };
    // Act
    const bill = lambdaBill(usage);
    // Assess: 10 ms × 1769/1024 = 17.3 ms of CPU + 2 requests × 6 ms + 40 ms + 3 × 1 ms = 72.3 → 73 ms
    const push = bill.perFunction.push!;
    expect(push.msPerInvocation).toBe(73);
    expect(push.cpuMsPerRecord).toBe(1);
    expect(push.gbSeconds).toBeCloseTo((10 * 73 * LAMBDA_MEMORY_MB.push) / 1024 / 1000, 9);
    expect(bill.dollars).toBeCloseTo(0.73 * AWS_PRICES.lambdaArmPerGbSecond + 10 * 0.2e-6, 12);
  });

  it('gives a function at 2,048 MB its CPU time unstretched, and skips functions never invoked', () => {
    // Prepare
    const usage = {
      fanout: { invocations: 2, records: 200, cpuMs: 50, requests: 0 },
      email: { invocations: 0, records: 0, cpuMs: 0, requests: 0 },
    };
    // Act
    const bill = lambdaBill(usage, { ...LAMBDA_MEMORY_MB, fanout: 2048 });
    // Assess: 25 ms of CPU each, no waits for fan-out besides its requests
    expect(bill.perFunction.fanout!.msPerInvocation).toBe(25);
    expect(bill.perFunction.fanout!.gbSeconds).toBeCloseTo((2 * 25 * 2) / 1000, 9);
    expect(bill.perFunction.email).toBeUndefined();
  });

  it('charges one wait per round of overlapping requests, or per request when serial', () => {
    // Prepare: 2 push invocations of 10 jobs, 20 ms of CPU, 12 requests sent in 4 rounds
    const usage = { push: { invocations: 2, records: 20, cpuMs: 20, requests: 12, rounds: 4 } };
    // Act
    const rounds = lambdaBill(usage, { ...LAMBDA_MEMORY_MB, push: 2048 });
    const serial = lambdaBill(usage, { ...LAMBDA_MEMORY_MB, push: 2048 }, true);
    // Assess: 10 ms CPU + 2 rounds × 6 ms + 43 ms = 65 ms; serially 10 + 6 × 6 + 43 = 89 ms
    expect(rounds.perFunction.push!.msPerInvocation).toBe(65);
    expect(rounds.perFunction.push!.roundsPerInvocation).toBe(2);
    expect(rounds.perFunction.push!.requestsPerInvocation).toBe(6);
    expect(serial.perFunction.push!.msPerInvocation).toBe(89);
  });
});
