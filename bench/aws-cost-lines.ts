import type { FunctionBill } from './lambda-cost.ts';

/** The aws-cost report's lines that describe a run: its functions, requests and units. */

/** One line per function: invocations, CPU, requests and rounds, billed time. */
export function lambdaLines(fns: Readonly<Record<string, FunctionBill>>): string[] {
  return Object.entries(fns).map(
    ([fn, b]) =>
      `    ${fn.padEnd(24)} ${b.invocations} invocations, ${b.cpuMsPerRecord.toFixed(3)} ms CPU per record, ${b.requestsPerInvocation.toFixed(1)} requests in ${b.roundsPerInvocation.toFixed(1)} rounds, ${b.msPerInvocation} ms billed each, ${b.gbSeconds.toFixed(1)} GB-s`,
  );
}

/** A run's requests other than DynamoDB's, `service:Command count`. */
export function describeRequests(requests: Readonly<Record<string, number>>): string {
  return Object.entries(requests)
    .filter(([k]) => !k.startsWith('dynamodb:'))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** Units by table, the tables named without their deployment prefix. */
export function describeUnits(units: Readonly<Record<string, number>>): string {
  return Object.entries(units)
    .map(([table, n]) => `${table.replace(/^.*?-(?=[a-z-]+(\/|$))/, '')} ${n.toFixed(1)}`)
    .join(', ');
}
