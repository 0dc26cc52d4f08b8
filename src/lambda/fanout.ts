import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { decodeEvent } from '../domain/event.ts';
import { TenantAggregationRules } from '../handlers/aggregation.ts';
import { fanOut } from '../handlers/fanout.ts';
import { FunctionKind } from './env.ts';
import { defaultDeps, type LambdaDeps, lambdaRuntime, MetricName } from './powertools.ts';

/**
 * The fan-out function: Kinesis (event log) → inbox rows or a celebrity pointer, and delivery jobs.
 *
 * The event-source mapping must set `FunctionResponseTypes: ['ReportBatchItemFailures']`. The
 * handler's answer is returned as is: at most one failure, the sequence number of the first record
 * that failed, so Lambda checkpoints the records before it and retries from it, and an author's
 * events keep their order. That is why the Powertools BatchProcessor is not used here: it
 * processes every record and reports each failure, which would fan out records after a failed one.
 */
export function createFanoutHandler(
  deps: LambdaDeps,
): (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse> {
  const runtime = lambdaRuntime(deps);
  // One per container: it caches each tenant's rules for a minute.
  let aggregation: TenantAggregationRules | undefined;
  return runtime.wrap(async (event) => {
    const ports = await runtime.ports();
    aggregation ??= new TenantAggregationRules(ports.tenants, ports.clock);
    const response = await fanOut(event, {
      graph: ports.graph,
      inbox: ports.inbox,
      feed: ports.feed,
      queues: ports.queues,
      tierPolicy: ports.tierPolicy,
      clock: ports.clock,
      logger: runtime.logger,
      aggregation,
    });
    const failed = response.batchItemFailures[0]?.itemIdentifier;
    const done = failed === undefined ? event.Records : recordsBefore(event.Records, failed);
    const undecodable = done.filter((r) => !isDecodable(r)).length;
    runtime.counters.add(MetricName.EventsFannedOut, done.length - undecodable);
    runtime.counters.add(MetricName.UndecodableRecords, undecodable);
    runtime.counters.add(MetricName.BatchItemFailures, response.batchItemFailures.length);
    return response;
  });
}

/** The records the batch finished: those before the one it resumes from. */
function recordsBefore(
  records: readonly KinesisStreamRecord[],
  sequenceNumber: string,
): KinesisStreamRecord[] {
  const at = records.findIndex((r) => r.kinesis.sequenceNumber === sequenceNumber);
  return at === -1 ? [] : records.slice(0, at);
}

/** The handler skips what it cannot decode; the count tells poison from fanned-out events. */
function isDecodable(record: KinesisStreamRecord): boolean {
  try {
    decodeEvent(Buffer.from(record.kinesis.data, 'base64'));
    return true;
  } catch {
    return false;
  }
}

/** The entry point the CDK app points at (`fanout.handler`). */
export const handler = createFanoutHandler(defaultDeps(FunctionKind.Fanout));
