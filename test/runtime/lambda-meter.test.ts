import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { CostMeter } from '../../src/runtime/local-aws/cost-meter.ts';
import { LambdaMeter } from '../../src/runtime/local-aws/lambda-meter.ts';
import { emulatorClients } from '../support/aws.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());
const meter = new CostMeter();
meter.attach(clients);

/** Spins the CPU for about `ms`. */
function burn(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

describe('LambdaMeter', () => {
  it('runs handler calls one at a time and sums their CPU time, records and requests per function', async () => {
    // Prepare
    const lambda = new LambdaMeter(meter);
    const order: string[] = [];
    const call = (name: string) => async () => {
      order.push(`${name} start`);
      burn(20);
      await clients.dynamodb.send(new ListTablesCommand({}));
      order.push(`${name} end`);
      return name;
    };
    // Act
    const results = await Promise.all([
      lambda.around('push', 10, call('a')),
      lambda.around('push', 4, call('b')),
      lambda.around('fanout', 100, call('c')),
    ]);
    // Assess
    expect(results).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    const usage = lambda.usage();
    expect(usage.push).toMatchObject({ invocations: 2, records: 14, requests: 2 });
    expect(usage.fanout).toMatchObject({ invocations: 1, records: 100, requests: 1 });
    expect(usage.push!.cpuMs).toBeGreaterThanOrEqual(usage.fanout!.cpuMs);
    expect(usage.fanout!.cpuMs).toBeGreaterThan(0);
    expect(usage.email).toBeUndefined();
  });

  it('counts nothing while disabled, and a failing call still lets the next one run', async () => {
    // Prepare
    const lambda = new LambdaMeter(meter);
    lambda.enabled = false;
    await lambda.around('email', 10, async () => burn(1));
    lambda.enabled = true;
    // Act
    const failed = lambda.around('email', 3, async () => {
      throw new Error('handler failed');
    });
    const next = lambda.around('email', 5, async () => 'ran');
    // Assess
    await expect(failed).rejects.toThrow('handler failed');
    await expect(next).resolves.toBe('ran');
    expect(lambda.usage().email).toMatchObject({ invocations: 2, records: 8, requests: 0 });
  });

  it("counts rounds of a call's own requests: overlapping ones share a round, others' requests do not count", async () => {
    // Prepare: a request of someone else (a poller) in flight while the call runs
    const lambda = new LambdaMeter(meter);
    const list = () => clients.dynamodb.send(new ListTablesCommand({}));
    const outside = list();
    // Act: three requests sent together, then one after them, then two together
    await lambda.around('fanout', 1, async () => {
      await Promise.all([list(), list(), list()]);
      await list();
      await Promise.all([list(), list()]);
    });
    await outside;
    // Assess
    expect(lambda.usage().fanout).toMatchObject({ invocations: 1, rounds: 3 });
    expect(lambda.usage().fanout!.requests).toBeGreaterThanOrEqual(6);
  });
});
