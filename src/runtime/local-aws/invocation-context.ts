import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The SDK requests of one metered handler call, seen from inside it: how many are in flight now,
 * and how many rounds they came in (a round starts when a request goes out with none in flight).
 * A round is one wait on the network however many requests overlap in it, which is what a
 * Lambda's billed duration pays.
 */
export interface InvocationRequests {
  inFlight: number;
  rounds: number;
}

/**
 * Set by LambdaMeter around each handler call and read by CostMeter's middleware, so that only
 * the call's own requests count (not the pollers' or another task's running meanwhile).
 */
export const invocationRequests = new AsyncLocalStorage<InvocationRequests>();
