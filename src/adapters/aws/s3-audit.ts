import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AuditEntry } from '../../domain/audit-types.ts';
import { createUlidGenerator } from '../../domain/ids.ts';
import type { AuditSink } from '../../ports/audit-sink.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { awsCall } from './errors.ts';

/** Options of {@link S3AuditSink}. */
export interface S3AuditSinkOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Key prefix, as the Firehose delivery stream's S3 prefix. @default 'audit/' */
  readonly prefix?: string;
  readonly clock?: Clock;
}

/**
 * Writes audit entries as the objects Firehose would deliver to the audit bucket: newline-
 * delimited JSON under `prefix/YYYY/MM/DD/HH/`. Firehose has no local emulator, so the local-aws
 * profile writes the same objects to the S3 emulator directly; on AWS the pipeline uses the
 * Firehose sink and Firehose writes them. One object per append: a delivery batch's decisions.
 */
export class S3AuditSink implements AuditSink {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #clock: Clock;
  // Time-ordered object names, so listing the bucket reads decisions in the order they were made.
  readonly #ids: () => string;

  constructor(opts: S3AuditSinkOptions) {
    this.#s3 = opts.s3;
    this.#bucket = opts.bucket;
    this.#prefix = opts.prefix ?? 'audit/';
    this.#clock = opts.clock ?? systemClock;
    const clock = this.#clock;
    this.#ids = createUlidGenerator(() => clock.now());
  }

  async append(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const at = new Date(this.#clock.now()).toISOString();
    const folder = `${at.slice(0, 4)}/${at.slice(5, 7)}/${at.slice(8, 10)}/${at.slice(11, 13)}`;
    const body = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
    await awsCall('audit PutObject', () =>
      this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: `${this.#prefix}${folder}/${this.#ids()}.jsonl`,
          Body: body,
          ContentType: 'application/x-ndjson',
        }),
      ),
    );
  }
}

/** Every audit entry under `prefix` in `bucket`, in object-key order (what Firehose delivered). */
export async function* readS3Audit(
  s3: S3Client,
  bucket: string,
  prefix = 'audit/',
): AsyncIterable<AuditEntry> {
  let token: string | undefined;
  do {
    const page = await awsCall('audit ListObjectsV2', () =>
      s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ContinuationToken: token,
        }),
      ),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      const key = object.Key;
      const got = await awsCall('audit GetObject', () =>
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
      );
      const text = (await got.Body?.transformToString('utf8')) ?? '';
      for (const line of text.split('\n')) {
        if (line !== '') yield JSON.parse(line) as AuditEntry;
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}
