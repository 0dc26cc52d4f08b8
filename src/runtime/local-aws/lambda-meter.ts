import type { HandlerWrapper, PipelineFunction } from '../pipeline.ts';
import type { CostMeter } from './cost-meter.ts';
import { type InvocationRequests, invocationRequests } from './invocation-context.ts';

/** What one function's handler calls took, summed over a run. */
export interface FunctionUsage {
  /** Handler calls: Lambda invocations. */
  readonly invocations: number;
  /** Records those calls handled: Kinesis records, delivery jobs (a packed SQS message counts its jobs), stream changes. */
  readonly records: number;
  /** Process CPU time (user + system) while the calls ran, ms. */
  readonly cpuMs: number;
  /** SDK requests the calls sent themselves (not the event source's polls, deletes, checkpoints). */
  readonly requests: number;
  /**
   * Rounds those requests came in: requests sent while another of the same call was in flight
   * share its round (see InvocationRequests). At most `requests`; unknown when absent.
   */
  readonly rounds?: number;
}

/**
 * Requests an event-source mapping makes on AWS, outside the function's billed duration: the
 * local pollers send them between handler calls, and when one lands inside a call it is not the
 * handler's.
 */
const EVENT_SOURCE_REQUESTS = new Set([
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
  'sqs:ReceiveMessage',
  'sqs:ReceiveMessage(empty)',
  'sqs:DeleteMessageBatch',
  'sqs:ChangeMessageVisibilityBatch',
  'sqs:GetQueueAttributes',
]);

/**
 * Measures handler CPU time per function, for pricing Lambda compute: wraps every handler call of
 * a local pipeline (`PipelineOptions.aroundHandler`) and reads `process.cpuUsage()` before and
 * after it.
 *
 * Calls run one at a time (a queue), so a call's CPU delta is its own handler's work, plus
 * whatever the process did at the same time: the pollers between their calls (parsing a received
 * batch) and the SDK's and Redis client's response handling. That makes each figure an upper
 * bound of the handler's CPU time, never an undercount. Serialising changes how fast the run goes,
 * not what it does; the aws-cost benchmark measures no time.
 */
export class LambdaMeter {
  readonly #usage = new Map<
    PipelineFunction,
    { invocations: number; records: number; cpuUs: number; requests: number; rounds: number }
  >();
  readonly #meter: CostMeter | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #enabled = true;

  /** @param meter the run's request meter, to count the requests each call sends. */
  constructor(meter?: CostMeter) {
    this.#meter = meter;
  }

  /** Stops or resumes counting (calls still run one at a time). */
  set enabled(on: boolean) {
    this.#enabled = on;
  }

  /** The wrapper to hand the pipeline. */
  readonly around: HandlerWrapper = (fn, records, call) => {
    const run = this.#tail.then(() => this.#measure(fn, records, call));
    // The next call waits for this one, whether it succeeds or not.
    this.#tail = run.catch(() => {});
    return run;
  };

  /** Usage per function so far. */
  usage(): Readonly<Partial<Record<PipelineFunction, FunctionUsage>>> {
    return Object.fromEntries(
      [...this.#usage].map(([fn, u]) => [
        fn,
        {
          invocations: u.invocations,
          records: u.records,
          cpuMs: u.cpuUs / 1000,
          requests: u.requests,
          rounds: u.rounds,
        },
      ]),
    );
  }

  reset(): void {
    this.#usage.clear();
  }

  async #measure<T>(fn: PipelineFunction, records: number, call: () => Promise<T>): Promise<T> {
    const requestsBefore = this.#requests();
    const own: InvocationRequests = { inFlight: 0, rounds: 0 };
    const cpuBefore = process.cpuUsage();
    try {
      return await invocationRequests.run(own, call);
    } finally {
      const cpu = process.cpuUsage(cpuBefore);
      if (this.#enabled) {
        const u = this.#usage.get(fn) ?? { invocations: 0, records: 0, cpuUs: 0, requests: 0, rounds: 0 };
        u.invocations += 1;
        u.records += records;
        u.cpuUs += cpu.user + cpu.system;
        u.requests += this.#requests() - requestsBefore;
        u.rounds += own.rounds;
        this.#usage.set(fn, u);
      }
    }
  }

  #requests(): number {
    if (this.#meter === undefined) return 0;
    let total = 0;
    for (const [key, n] of Object.entries(this.#meter.counts().requests)) {
      if (!EVENT_SOURCE_REQUESTS.has(key)) total += n;
    }
    return total;
  }
}
