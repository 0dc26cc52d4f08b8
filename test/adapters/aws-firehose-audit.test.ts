import {
  CreateDeliveryStreamCommand,
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIREHOSE_LIMITS, FirehoseAuditSink } from '../../src/adapters/aws/firehose-audit.ts';
import type { AuditEntry } from '../../src/domain/audit-types.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { Outcome } from '../../src/domain/types.ts';
import { auditSinkContract } from '../contracts/audit-sink.contract.ts';
import { EMULATOR_CLIENT, motoEndpoint, uniqueName } from '../support/aws.ts';

/*
 * The contract runs twice: against moto_server's Firehose, a Direct PUT stream into an S3 bucket of
 * the same moto, read back from the S3 objects it wrote (what the audit trail is); and against a
 * stand-in built with aws-sdk-client-mock that keeps the records each PutRecordBatch delivered, in
 * call order. The mock stays for what moto cannot show: partial failures (FailedPutCount), throttling
 * and the request shapes at the service limits (tests below).
 */

auditSinkContract('aws (Firehose on moto_server, into S3)', async () => {
  const endpoint = motoEndpoint();
  const firehose = new FirehoseClient({ ...EMULATOR_CLIENT, endpoint });
  const s3 = new S3Client({ ...EMULATOR_CLIENT, endpoint, forcePathStyle: true });
  const bucket = uniqueName('audit');
  const stream = uniqueName('fanout-audit');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await firehose.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: stream,
      DeliveryStreamType: 'DirectPut',
      ExtendedS3DestinationConfiguration: {
        BucketARN: `arn:aws:s3:::${bucket}`,
        RoleARN: 'arn:aws:iam::123456789012:role/fanout-audit-delivery',
        Prefix: 'audit/',
      },
    }),
  );
  // moto writes one S3 object per PutRecordBatch, named to the second: S3 cannot tell the order of
  // objects written within one second. The order of the requests the sink sent is recorded here;
  // the entries themselves are read back from S3.
  const sent: string[] = [];
  firehose.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as PutRecordBatchCommandInput;
      if (input.Records !== undefined) {
        sent.push(input.Records.map((r) => Buffer.from(r.Data!).toString('utf8')).join(''));
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordRequestOrder' },
  );
  return {
    sink: new FirehoseAuditSink({ firehose, deliveryStreamName: stream, retry: noWait }),
    stored: async () => {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'audit/' }));
      const objects: string[] = [];
      for (const object of [...(listed.Contents ?? [])].sort((a, b) => a.Key!.localeCompare(b.Key!))) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
        objects.push(await got.Body!.transformToString('utf8'));
      }
      // Objects in the order of the requests that wrote them; any object no request matches last.
      const ordered: string[] = [];
      for (const body of sent) {
        const at = objects.indexOf(body);
        if (at >= 0) ordered.push(...objects.splice(at, 1));
      }
      ordered.push(...objects);
      return ordered.flatMap((text) =>
        text
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as AuditEntry),
      );
    },
    close: async () => {
      firehose.destroy();
      s3.destroy();
    },
  };
});

const noWait = { sleep: async () => {}, random: () => 0 };

function newClient(): FirehoseClient {
  return new FirehoseClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
}

/** The lines of the records of one call, parsed. */
function linesOf(input: PutRecordBatchCommandInput): unknown[] {
  return (input.Records ?? []).map((r) => {
    const text = Buffer.from(r.Data!).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.slice(0, -1)).not.toContain('\n');
    return JSON.parse(text);
  });
}

auditSinkContract('aws (Firehose, request shapes)', async () => {
  const firehose = newClient();
  const mock = mockClient(firehose);
  const delivered: AuditEntry[] = [];
  mock.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
    expect(input.DeliveryStreamName).toBe('fanout-audit');
    delivered.push(...(linesOf(input) as AuditEntry[]));
    return {
      FailedPutCount: 0,
      Encrypted: false,
      RequestResponses: (input.Records ?? []).map((_, i) => ({ RecordId: `r${delivered.length + i}` })),
    };
  });
  return {
    sink: new FirehoseAuditSink({ firehose, deliveryStreamName: 'fanout-audit', retry: noWait }),
    stored: async () => [...delivered],
    close: async () => {
      mock.restore();
      firehose.destroy();
    },
  };
});

function entry(i: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    at: 1_700_000_000_000 + i,
    tenantId: 'tenant-1',
    userId: `user-${i}`,
    channel: 'push',
    notificationId: `n${i}`,
    eventId: `event-${i}`,
    outcome: Outcome.Sent,
    ...extra,
  };
}

describe('FirehoseAuditSink', () => {
  let firehose: FirehoseClient;
  let mock: ReturnType<typeof mockClient>;
  beforeEach(() => {
    firehose = newClient();
    mock = mockClient(firehose);
  });
  afterEach(() => {
    mock.restore();
    firehose.destroy();
  });

  const calls = () =>
    mock.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input as PutRecordBatchCommandInput);
  const sentIds = (input: PutRecordBatchCommandInput) => linesOf(input).map((e) => (e as AuditEntry).eventId);

  it('re-sends only the records whose answer has an ErrorCode, in their order', async () => {
    // Prepare
    mock
      .on(PutRecordBatchCommand)
      .resolvesOnce({
        FailedPutCount: 2,
        RequestResponses: [
          { RecordId: 'a' },
          { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' },
          { RecordId: 'c' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' },
        ],
      })
      .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'b' }, { RecordId: 'd' }] });
    const sink = new FirehoseAuditSink({ firehose, deliveryStreamName: 'audit', retry: noWait });
    // Act
    await sink.append([entry(0), entry(1), entry(2), entry(3)]);
    // Assess
    const [first, second] = calls();
    expect(sentIds(first!)).toEqual(['event-0', 'event-1', 'event-2', 'event-3']);
    expect(sentIds(second!)).toEqual(['event-1', 'event-3']);
    expect(calls()).toHaveLength(2);
  });

  it('splits a 5 MiB append into calls of at most 4 MiB and 500 records, in order', async () => {
    // Prepare
    mock.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => ({
      FailedPutCount: 0,
      RequestResponses: (input.Records ?? []).map(() => ({ RecordId: 'r' })),
    }));
    const sink = new FirehoseAuditSink({ firehose, deliveryStreamName: 'audit', retry: noWait });
    const big = Array.from({ length: 50 }, (_, i) => entry(i, { reason: 'r'.repeat(100 * 1024) }));
    const small = Array.from({ length: 600 }, (_, i) => entry(100 + i));
    // Act
    await sink.append([...big, ...small]);
    // Assess
    const sent = calls();
    for (const input of sent) {
      const bytes = (input.Records ?? []).reduce((n, r) => n + r.Data!.length, 0);
      expect(bytes).toBeLessThanOrEqual(FIREHOSE_LIMITS.bytesPerCall);
      expect(input.Records!.length).toBeLessThanOrEqual(FIREHOSE_LIMITS.recordsPerCall);
    }
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(sent.flatMap(sentIds)).toEqual([...big, ...small].map((e) => e.eventId));
  });

  it('gives up with StoreUnavailableError when records keep failing', async () => {
    // Prepare
    mock.on(PutRecordBatchCommand).resolves({
      FailedPutCount: 1,
      RequestResponses: [{ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' }],
    });
    const sink = new FirehoseAuditSink({
      firehose,
      deliveryStreamName: 'audit',
      retry: { ...noWait, maxAttempts: 3 },
    });
    // Act
    const result = sink.append([entry(0)]);
    // Assess
    await expect(result).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(calls()).toHaveLength(3);
  });

  it('retries a throttled call whole, and keeps appending after an append failed', async () => {
    // Prepare
    const throttled = Object.assign(new Error('rate exceeded'), {
      name: 'ServiceUnavailableException',
      $metadata: { httpStatusCode: 503 },
    });
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: {} });
    mock
      .on(PutRecordBatchCommand)
      .rejectsOnce(denied)
      .rejectsOnce(throttled)
      .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'a' }] });
    const sink = new FirehoseAuditSink({ firehose, deliveryStreamName: 'audit', retry: noWait });
    // Act
    const failed = sink.append([entry(0)]);
    const next = sink.append([entry(1)]);
    // Assess
    await expect(failed).rejects.toBeInstanceOf(StoreUnavailableError);
    await next;
    expect(calls().map(sentIds)).toEqual([['event-0'], ['event-1'], ['event-1']]);
  });
});
