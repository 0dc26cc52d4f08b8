import type { FunctionUsage } from '../src/runtime/local-aws/lambda-meter.ts';
import type { PipelineFunction } from '../src/runtime/pipeline.ts';
import { AWS_PRICES as P } from './aws-prices.ts';

/**
 * Memory of each function as the CDK app deploys it (`FanoutFunction`'s default, which neither
 * `FanoutWorker` nor `FanoutDelivery` overrides unless `memorySize` / `consumerMemorySize` is set;
 * test/infra/stack.test.ts checks the synthesized template against these).
 */
export const LAMBDA_MEMORY_MB: Readonly<Record<PipelineFunction, number>> = {
  fanout: 1024,
  push: 1024,
  email: 1024,
  'preference-invalidation': 1024,
  'email-digest': 1024,
} as const;

/**
 * Assumed waits of a handler on the network, besides its CPU time, since Lambda bills wall time
 * (duration), not CPU. The emulators' latencies say nothing about AWS's, so these are stated, not
 * measured: every round of SDK requests a handler sends waits one in-region round trip (requests
 * sent while another of the same call is in flight share its round, as LambdaMeter measures them;
 * without that measure, every request waits alone: an upper bound), every push or email
 * invocation one provider round trip (its sends go out together) and a few Redis round trips (the
 * dedup claim, release and confirm).
 */
export const LAMBDA_WAITS = {
  /** One DynamoDB / SQS / Firehose / Kinesis request from inside the region, ms. */
  awsRequestMs: 6,
  /** One round of sends to APNs, FCM, SNS or SES per delivery invocation, ms. */
  providerRoundTripMs: 40,
  /** Redis round trips per delivery invocation (dedup claim, release, confirm, devices cache). */
  redisRoundTrips: 3,
  redisRoundTripMs: 1,
} as const;

/** Lambda gives a function a full vCPU at 1,769 MB and a proportional share below. */
const FULL_VCPU_MB = 1769;

/** What one function's invocations cost. */
export interface FunctionBill {
  readonly invocations: number;
  readonly cpuMsPerRecord: number;
  /** SDK requests per invocation, and the rounds they came in (what the waits are charged on). */
  readonly requestsPerInvocation: number;
  readonly roundsPerInvocation: number;
  /** Modelled billed duration of one invocation, ms. */
  readonly msPerInvocation: number;
  readonly gbSeconds: number;
  readonly dollars: number;
}

/**
 * Lambda's bill for a run's handler calls: invocations × $0.20 per million, plus GB-seconds at
 * the Arm price. An invocation's duration is its measured CPU time, stretched by the CPU share
 * its memory buys (1,024 MB ≈ 0.58 vCPU), plus its network waits (see LAMBDA_WAITS): one per
 * round of requests, or with `serial` one per request (the upper bound).
 */
export function lambdaBill(
  usage: Readonly<Partial<Record<PipelineFunction, FunctionUsage>>>,
  memoryMb: Readonly<Record<PipelineFunction, number>> = LAMBDA_MEMORY_MB,
  serial = false,
): { readonly perFunction: Partial<Record<PipelineFunction, FunctionBill>>; readonly dollars: number } {
  const perFunction: Partial<Record<PipelineFunction, FunctionBill>> = {};
  let dollars = 0;
  for (const [fn, u] of Object.entries(usage) as [PipelineFunction, FunctionUsage][]) {
    if (u.invocations === 0) continue;
    const memory = memoryMb[fn];
    const delivery = fn === 'push' || fn === 'email';
    const cpuMs = (u.cpuMs / u.invocations) * Math.max(1, FULL_VCPU_MB / memory);
    const waitMs =
      ((serial ? u.requests : (u.rounds ?? u.requests)) / u.invocations) * LAMBDA_WAITS.awsRequestMs +
      (delivery
        ? LAMBDA_WAITS.providerRoundTripMs + LAMBDA_WAITS.redisRoundTrips * LAMBDA_WAITS.redisRoundTripMs
        : 0);
    // Billed per started millisecond.
    const msPerInvocation = Math.ceil(cpuMs + waitMs);
    const gbSeconds = (u.invocations * msPerInvocation * memory) / 1024 / 1000;
    const bill = gbSeconds * P.lambdaArmPerGbSecond + (u.invocations * P.lambdaRequestsPerMillion) / 1e6;
    perFunction[fn] = {
      invocations: u.invocations,
      cpuMsPerRecord: u.records === 0 ? 0 : u.cpuMs / u.records,
      requestsPerInvocation: u.requests / u.invocations,
      roundsPerInvocation: (u.rounds ?? u.requests) / u.invocations,
      msPerInvocation,
      gbSeconds,
      dollars: bill,
    };
    dollars += bill;
  }
  return { perFunction, dollars };
}
