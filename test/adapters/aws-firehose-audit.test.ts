import {
  CreateDeliveryStreamCommand,
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FIREHOSE_LIMITS,
  FirehoseAuditSink,
  firehoseBilledBytes,
  packAuditRecords,
} from '../../src/adapters/aws/firehose-audit.ts';
import { readS3Audit } from '../../src/adapters/aws/s3-audit.ts';
import type { AuditEntry } from '../../src/domain/audit-types.ts';
import { StoreUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import { Outcome } from '../../src/domain/types.ts';
import { auditSinkContract } from '../contracts/audit-sink.contract.ts';
import { EMULATOR_CLIENT, emulatorClients, motoEndpoint, uniqueName } from '../support/aws.ts';

/*
 * The contract runs twice: against moto_server's Firehose, a Direct PUT stream into an S3 bucket of
 * the same moto, read back from the S3 objects it wrote (what the audit trail is); and against a
 * stand-in built with aws-sdk-client-mock that delivers as Firehose does (the records of each call
 * concatenated into an S3 object on the S3 emulator), read back with readS3Audit, the reader of the
 * audit bucket, so the records the sink packs are checked through to the reader. The mock also
 * shows what moto cannot: partial failures (FailedPutCount), throttling and the request shapes at
 * the service limits (tests below).
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

/** The lines of the records of one call, parsed (each record a run of whole JSON lines). */
function linesOf(input: PutRecordBatchCommandInput): unknown[] {
  return (input.Records ?? []).flatMap((r) => {
    const text = Buffer.from(r.Data!).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    return text
      .slice(0, -1)
      .split('\n')
      .map((line) => JSON.parse(line));
  });
}

const s3 = emulatorClients().s3;

auditSinkContract('aws (Firehose request shapes, delivered to S3, read by readS3Audit)', async () => {
  const firehose = newClient();
  const mock = mockClient(firehose);
  const bucket = uniqueName('audit');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  let objects = 0;
  mock.on(PutRecordBatchCommand).callsFake(async (input: PutRecordBatchCommandInput) => {
    expect(input.DeliveryStreamName).toBe('fanout-audit');
    const records = input.Records ?? [];
    // Firehose writes records as they came, concatenated, into time-ordered objects.
    const key = `audit/2026/12/07/05/${String(objects++).padStart(8, '0')}`;
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.concat(records.map((r) => r.Data!)) }),
    );
    return {
      FailedPutCount: 0,
      Encrypted: false,
      RequestResponses: records.map((_, i) => ({ RecordId: `r${objects}-${i}` })),
    };
  });
  return {
    sink: new FirehoseAuditSink({ firehose, deliveryStreamName: 'fanout-audit', retry: noWait }),
    stored: async () => {
      const entries: AuditEntry[] = [];
      for await (const e of readS3Audit(s3, bucket)) entries.push(e);
      return entries;
    },
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

  it('packs the decisions of an append into one record, billed as one 5 KiB step', async () => {
    // Prepare
    mock.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'a' }] });
    const sink = new FirehoseAuditSink({ firehose, deliveryStreamName: 'audit', retry: noWait });
    const entries = Array.from({ length: 10 }, (_, i) => entry(i));
    // Act
    await sink.append(entries);
    // Assess
    const [only] = calls();
    expect(calls()).toHaveLength(1);
    expect(only!.Records).toHaveLength(1);
    expect(sentIds(only!)).toEqual(entries.map((e) => e.eventId));
    expect(firehoseBilledBytes([only!.Records![0]!.Data!.length])).toBe(5 * 1024);
  });

  it('re-sends a record whose answer has an ErrorCode before sending the next one', async () => {
    // Prepare
    mock
      .on(PutRecordBatchCommand)
      .resolvesOnce({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'a' }] })
      .resolvesOnce({
        FailedPutCount: 1,
        RequestResponses: [{ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' }],
      })
      .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'b' }] });
    const sink = new FirehoseAuditSink({ firehose, deliveryStreamName: 'audit', retry: noWait });
    // 3 records: two of ~600 KiB cannot share one 1,000 KiB record.
    const entries = [
      entry(0, { reason: 'r'.repeat(600 * 1024) }),
      entry(1, { reason: 'r'.repeat(600 * 1024) }),
      entry(2),
      entry(3, { reason: 'r'.repeat(600 * 1024) }),
    ];
    // Act
    await sink.append(entries);
    // Assess
    expect(calls().map(sentIds)).toEqual([
      ['event-0'],
      ['event-1', 'event-2'],
      ['event-1', 'event-2'],
      ['event-3'],
    ]);
  });

  it('splits a 5 MiB append into records of at most 1,000 KiB, one per call, in order', async () => {
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
      expect(input.Records).toHaveLength(1);
      expect(input.Records![0]!.Data!.length).toBeLessThanOrEqual(FIREHOSE_LIMITS.bytesPerRecord);
    }
    expect(sent).toHaveLength(6);
    expect(sent.flatMap(sentIds)).toEqual([...big, ...small].map((e) => e.eventId));
  });

  it('rejects an entry over a record with ValidationError and sends nothing', async () => {
    // Prepare
    const sink = new FirehoseAuditSink({ firehose, deliveryStreamName: 'audit', retry: noWait });
    // Act
    const result = sink.append([entry(0), entry(1, { reason: 'r'.repeat(FIREHOSE_LIMITS.bytesPerRecord) })]);
    // Assess
    await expect(result).rejects.toBeInstanceOf(ValidationError);
    expect(calls()).toHaveLength(0);
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

describe('packAuditRecords', () => {
  const line = (text: string) => Buffer.from(`${text}\n`);

  it('packs whole lines in order into records of at most the limit', () => {
    // Prepare
    const lines = ['aaaa', 'bb', 'cccccc', 'd'].map(line);
    // Act
    const records = packAuditRecords(lines, 10);
    // Assess
    expect(records.map((r) => Buffer.from(r).toString())).toEqual(['aaaa\nbb\n', 'cccccc\nd\n']);
  });

  it('packs nothing into no record, and refuses a line over a record', () => {
    // Act / Assess
    expect(packAuditRecords([])).toEqual([]);
    expect(() => packAuditRecords([line('x'.repeat(20))], 10)).toThrow(RangeError);
  });

  it('bills every record rounded up to 5 KiB', () => {
    // Act / Assess
    expect(firehoseBilledBytes([1, 5 * 1024, 5 * 1024 + 1])).toBe(4 * 5 * 1024);
    expect(firehoseBilledBytes([])).toBe(0);
  });
});
