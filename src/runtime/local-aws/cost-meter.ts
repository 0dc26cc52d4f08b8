import { firehoseBilledBytes, packAuditRecords } from '../../adapters/aws/firehose-audit.ts';
import { TABLES } from '../../adapters/aws/tables.ts';
import type { AwsClients } from '../aws-clients.ts';
import { invocationRequests } from './invocation-context.ts';

/** Requests and DynamoDB capacity units counted on a set of SDK clients. */
export interface CostCounts {
  /** `service:Command` → requests sent (each retry is a request: AWS bills it). */
  readonly requests: Readonly<Record<string, number>>;
  /** Table (or `table/index`) → write capacity units consumed. */
  readonly writeUnits: Readonly<Record<string, number>>;
  /** Table (or `table/index`) → read capacity units consumed. */
  readonly readUnits: Readonly<Record<string, number>>;
  /**
   * What services without an emulator would have billed, from what their stand-ins were sent:
   * `firehose:records` and `firehose:billedBytes` for the audit objects written to S3 in
   * Firehose's place (see {@link AUDIT_CONTENT_TYPE}).
   */
  readonly modelled: Readonly<Record<string, number>>;
}

/**
 * The content type of the audit objects the local-aws profile writes to S3 where Firehose would
 * (`S3AuditSink`): one object per append, the lines `FirehoseAuditSink` would have sent.
 */
export const AUDIT_CONTENT_TYPE = 'application/x-ndjson';

/** Single-item writes that may carry a condition. */
const CONDITIONAL_WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

function isConditionFailure(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

const DYNAMO_WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);
/** Reads billed per call at a minimum of one 4 KB read. */
const SINGLE_READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand']);
const DYNAMO_READS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);

interface Capacity {
  readonly TableName?: string;
  readonly CapacityUnits?: number;
  readonly Table?: { readonly CapacityUnits?: number };
  readonly GlobalSecondaryIndexes?: Readonly<Record<string, { readonly CapacityUnits?: number }>>;
}

/** A sent entry or a received message, as far as SQS's payload size goes. */
interface SqsPayload {
  readonly MessageBody?: string;
  readonly Body?: string;
  readonly MessageAttributes?: Readonly<Record<string, { DataType?: string; StringValue?: string }>>;
}

/** SQS's billing unit of payload. */
const SQS_CHUNK_BYTES = 64 * 1024;
/** The key of the requests SQS bills for payload chunks beyond a call's first 64 KiB. */
export const SQS_EXTRA_CHUNKS = 'sqs:payload chunks beyond 64 KiB';

/**
 * Counts what a run costs, for the aws-cost benchmark: every request per service and command, and
 * DynamoDB's ConsumedCapacity per table and index (the meter asks for `ReturnConsumedCapacity:
 * INDEXES` on every DynamoDB call, which costs nothing). Middleware on the clients, so the
 * adapters stay unaware of it.
 */
export class CostMeter {
  readonly #requests = new Map<string, number>();
  readonly #writes = new Map<string, number>();
  readonly #reads = new Map<string, number>();
  readonly #modelled = new Map<string, number>();
  #enabled = true;

  /** Installs the meter on every client of `clients` (call once per client set). */
  attach(clients: AwsClients): void {
    const services: [string, { middlewareStack: AwsClients['sqs']['middlewareStack'] }][] = [
      ['dynamodb', clients.dynamodb as never],
      ['kinesis', clients.kinesis as never],
      ['sqs', clients.sqs as never],
      ['s3', clients.s3 as never],
      ['ses', clients.ses as never],
      ['sns', clients.sns as never],
      ['firehose', clients.firehose as never],
    ];
    for (const [service, client] of services) {
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const command = String(context.commandName ?? 'Unknown');
          const input = args.input as Record<string, unknown>;
          const dynamo = service === 'dynamodb' && (DYNAMO_WRITES.has(command) || DYNAMO_READS.has(command));
          if (dynamo) input.ReturnConsumedCapacity = 'INDEXES';
          if (this.#enabled) this.#bump(this.#requests, `${service}:${command.replace(/Command$/, '')}`, 1);
          if (service === 's3' && command === 'PutObjectCommand' && this.#enabled) this.#modelFirehose(input);
          const invocation = invocationRequests.getStore();
          if (invocation !== undefined && invocation.inFlight++ === 0) invocation.rounds++;
          let result: Awaited<ReturnType<typeof next>>;
          try {
            result = await next(args);
          } catch (err) {
            // DynamoDB bills a write whose condition failed as a write: counted as 1 unit, a lower
            // bound (DynamoDB bills the item's size), as is leaving out a cancelled transaction,
            // which DynamoDB bills too. DynamoDB Local reports nothing for either.
            if (dynamo && this.#enabled && CONDITIONAL_WRITES.has(command) && isConditionFailure(err)) {
              const table = typeof input.TableName === 'string' ? input.TableName : 'unknown';
              this.#bump(this.#writes, table, 1);
            }
            throw err;
          } finally {
            if (invocation !== undefined) invocation.inFlight--;
          }
          // An empty receive is polling, paid per second of waiting rather than per delivery:
          // counted apart so the per-delivery figure is not a function of how long the run idled.
          if (service === 'sqs' && command === 'ReceiveMessageCommand' && this.#enabled) {
            const messages = (result.output as { Messages?: SqsPayload[] }).Messages ?? [];
            if (messages.length === 0) this.#bump(this.#requests, 'sqs:ReceiveMessage(empty)', 1);
            this.#extraChunks(messages);
          }
          if (service === 'sqs' && this.#enabled) {
            if (command === 'SendMessageBatchCommand')
              this.#extraChunks((input.Entries ?? []) as SqsPayload[]);
            if (command === 'SendMessageCommand') this.#extraChunks([input as SqsPayload]);
          }
          if (dynamo && this.#enabled) {
            const units = DYNAMO_WRITES.has(command) ? this.#writes : this.#reads;
            const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
            const list = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
            // Where DynamoDB Local's report differs from DynamoDB's bill, the bill is estimated:
            // a TransactWriteItems it reports as 2 units whatever it holds (measured: 1, 10 or 50
            // puts alike); a BatchGetItem it bills only for the items found (or not at all),
            // where DynamoDB bills every key asked for, found or not.
            if (command === 'TransactWriteItemsCommand') this.#estimateTransactWrite(input);
            else if (command === 'BatchGetItemCommand') this.#estimateBatchGet(input);
            else {
              for (const c of list) this.#record(units, c, command.startsWith('Transact') ? 2 : 1);
              if (SINGLE_READS.has(command)) this.#atLeastOneRead(input, list);
            }
          }
          return result;
        },
        { step: 'initialize', name: 'fanoutCostMeter' },
      );
    }
  }

  /**
   * SQS bills every 64 KiB of a request's payload as one request: the chunks past the first are
   * counted as requests of their own (a delivery job is a few hundred bytes, so a batch of ten
   * messages of ten jobs stays within one).
   */
  #extraChunks(messages: readonly SqsPayload[]): void {
    let bytes = 0;
    for (const m of messages) {
      bytes += Buffer.byteLength(m.MessageBody ?? m.Body ?? '', 'utf8');
      for (const [name, value] of Object.entries(m.MessageAttributes ?? {})) {
        bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
        bytes += Buffer.byteLength(value.StringValue ?? '', 'utf8');
      }
    }
    const extra = Math.ceil(bytes / SQS_CHUNK_BYTES) - 1;
    if (extra > 0) this.#bump(this.#requests, SQS_EXTRA_CHUNKS, extra);
  }

  /** Stops or resumes counting (seeding the demo graph is not part of the measured run). */
  set enabled(on: boolean) {
    this.#enabled = on;
  }

  counts(): CostCounts {
    return {
      requests: Object.fromEntries(this.#requests),
      writeUnits: Object.fromEntries(this.#writes),
      readUnits: Object.fromEntries(this.#reads),
      modelled: Object.fromEntries(this.#modelled),
    };
  }

  reset(): void {
    this.#requests.clear();
    this.#writes.clear();
    this.#reads.clear();
    this.#modelled.clear();
  }

  /**
   * An audit object stands for one `FirehoseAuditSink.append`: its lines packed into records as
   * that sink packs them, each billed rounded up to 5 KiB.
   */
  #modelFirehose(input: Record<string, unknown>): void {
    if (input.ContentType !== AUDIT_CONTENT_TYPE || typeof input.Body !== 'string') return;
    const lines = input.Body.split('\n')
      .filter((line) => line !== '')
      .map((line) => Buffer.from(`${line}\n`, 'utf8'));
    const records = packAuditRecords(lines);
    this.#bump(this.#modelled, 'firehose:records', records.length);
    this.#bump(this.#modelled, 'firehose:billedBytes', firehoseBilledBytes(records.map((r) => r.length)));
  }

  #record(units: Map<string, number>, c: Capacity, factor: number): void {
    const table = c.TableName ?? 'unknown';
    const indexes = c.GlobalSecondaryIndexes ?? {};
    const indexUnits = Object.values(indexes).reduce((sum, i) => sum + (i.CapacityUnits ?? 0), 0);
    this.#bump(units, table, factor * (c.Table?.CapacityUnits ?? (c.CapacityUnits ?? 0) - indexUnits));
    for (const [name, index] of Object.entries(indexes)) {
      this.#bump(units, `${table}/${name}`, factor * (index.CapacityUnits ?? 0));
    }
  }

  /**
   * A transactional write as DynamoDB bills it: 2 write units per item per started KB (a Put's
   * size estimated from its attributes' JSON, an Update, Delete or ConditionCheck taken as one
   * KB), and 1 unit per index entry a Put writes (the table's indexes whose key the item
   * carries: index propagation is not transactional). An Update that changes an index key is not
   * seen (none of ours does inside a transaction).
   */
  #estimateTransactWrite(input: Record<string, unknown>): void {
    const items = (input.TransactItems ?? []) as Record<
      string,
      { TableName?: string; Item?: Record<string, unknown> }
    >[];
    for (const action of items) {
      const [kind, op] = Object.entries(action)[0] ?? [];
      if (op?.TableName === undefined) continue;
      const kb =
        kind === 'Put' && op.Item !== undefined
          ? Math.max(1, Math.ceil(JSON.stringify(op.Item).length / 1024))
          : 1;
      this.#bump(this.#writes, op.TableName, 2 * kb);
      if (kind !== 'Put' || op.Item === undefined) continue;
      for (const index of indexesOf(op.TableName)) {
        if (op.Item[index.partitionKey] !== undefined)
          this.#bump(this.#writes, `${op.TableName}/${index.name}`, 1);
      }
    }
  }

  /**
   * A GetItem, Query or Scan page costs at least one read of 4 KB (0.5 unit eventually
   * consistent, 1 strongly) even when it finds nothing; DynamoDB Local reports 0 then.
   */
  #atLeastOneRead(input: Record<string, unknown>, reported: readonly Capacity[]): void {
    const table = typeof input.TableName === 'string' ? input.TableName : undefined;
    if (table === undefined) return;
    const minimum = input.ConsistentRead === true ? 1 : 0.5;
    const got = reported.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
    if (got < minimum) this.#bump(this.#reads, table, minimum - got);
  }

  #estimateBatchGet(input: Record<string, unknown>): void {
    const requests = (input.RequestItems ?? {}) as Record<
      string,
      { Keys?: unknown[]; ConsistentRead?: boolean }
    >;
    for (const [table, request] of Object.entries(requests)) {
      this.#bump(this.#reads, table, (request.Keys?.length ?? 0) * (request.ConsistentRead ? 1 : 0.5));
    }
  }

  #bump(map: Map<string, number>, key: string, by: number): void {
    map.set(key, (map.get(key) ?? 0) + by);
  }
}

/** The indexes of a physical table, by the logical name it ends with (`<prefix>-inbox`). */
function indexesOf(table: string): readonly { readonly name: string; readonly partitionKey: string }[] {
  for (const [name, spec] of Object.entries(TABLES)) {
    if (table.endsWith(`-${name}`)) return 'indexes' in spec ? spec.indexes : [];
  }
  return [];
}

/**
 * What a meter counted between two of its `counts()`: the cost of one call site, when the
 * meter's counts are taken just before and just after it.
 */
export function countsSince(after: CostCounts, before: CostCounts): CostCounts {
  const minus = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) =>
    Object.fromEntries(
      Object.entries(a)
        .map(([key, value]) => [key, value - (b[key] ?? 0)] as const)
        .filter(([, value]) => value !== 0),
    );
  return {
    requests: minus(after.requests, before.requests),
    writeUnits: minus(after.writeUnits, before.writeUnits),
    readUnits: minus(after.readUnits, before.readUnits),
    modelled: minus(after.modelled, before.modelled),
  };
}
