import type { AwsClients } from '../aws-clients.ts';

/** Requests and DynamoDB capacity units counted on a set of SDK clients. */
export interface CostCounts {
  /** `service:Command` → requests sent (each retry is a request: AWS bills it). */
  readonly requests: Readonly<Record<string, number>>;
  /** Table (or `table/index`) → write capacity units consumed. */
  readonly writeUnits: Readonly<Record<string, number>>;
  /** Table (or `table/index`) → read capacity units consumed. */
  readonly readUnits: Readonly<Record<string, number>>;
}

const DYNAMO_WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);
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
          const result = await next(args);
          // An empty receive is polling, paid per second of waiting rather than per delivery:
          // counted apart so the per-delivery figure is not a function of how long the run idled.
          if (service === 'sqs' && command === 'ReceiveMessageCommand' && this.#enabled) {
            const messages = (result.output as { Messages?: unknown[] }).Messages ?? [];
            if (messages.length === 0) this.#bump(this.#requests, 'sqs:ReceiveMessage(empty)', 1);
          }
          if (dynamo && this.#enabled) {
            const units = DYNAMO_WRITES.has(command) ? this.#writes : this.#reads;
            const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
            const list = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
            // DynamoDB Local charges a transaction 1 unit per item; DynamoDB charges 2.
            const factor = command.startsWith('Transact') ? 2 : 1;
            for (const c of list) this.#record(units, c, factor);
            // DynamoDB Local reports nothing for BatchGetItem: estimate as DynamoDB bills it,
            // one unit per strongly consistent read of an item up to 4 KB, half for eventual.
            if (command === 'BatchGetItemCommand' && list.length === 0) this.#estimateBatchGet(input);
          }
          return result;
        },
        { step: 'initialize', name: 'fanoutCostMeter' },
      );
    }
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
    };
  }

  reset(): void {
    this.#requests.clear();
    this.#writes.clear();
    this.#reads.clear();
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
