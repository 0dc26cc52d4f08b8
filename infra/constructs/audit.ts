import { Aws, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Properties of {@link FanoutAudit}. */
export interface FanoutAuditProps {
  /**
   * Days every audit object is locked in COMPLIANCE mode (no one, the root user included, can
   * delete or overwrite it before then).
   * @default 365
   */
  readonly retentionDays?: number;
  /** Days after which audit objects move to {@link archiveStorageClass}. @default 90 */
  readonly archiveAfterDays?: number;
  /** Storage class of archived audit objects (and access logs). @default s3.StorageClass.GLACIER */
  readonly archiveStorageClass?: s3.StorageClass;
  /**
   * Key of the stream's server-side encryption, of the audit objects (SSE-KMS) and of the
   * delivery-error log group's bucket prefix.
   * @default a new customer-managed key with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;
  /** Firehose buffers at most this long before writing an object. @default 300 s */
  readonly bufferingInterval?: Duration;
  /** Firehose buffers at most this many MiB before writing an object, 1 to 128. @default 64 */
  readonly bufferingSizeMiB?: number;
  /**
   * Compression of the S3 objects. `UNCOMPRESSED` keeps them plain JSONL like the local
   * `S3AuditSink`; `GZIP` adds `.gz`.
   * @default 'UNCOMPRESSED'
   */
  readonly compression?: 'UNCOMPRESSED' | 'GZIP';
  /** Retention of Firehose's delivery-error log group. @default one year */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the buckets, the key and the log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** S3 prefix of delivered audit records (Firehose's timestamp is the arrival time, UTC). */
export const AUDIT_PREFIX = 'audit/!{timestamp:yyyy/MM/dd/HH}/';
/** S3 prefix of records Firehose could not deliver or process. */
export const AUDIT_ERROR_PREFIX = 'audit-errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/';

/**
 * The audit trail: a Firehose delivery stream (Direct PUT, what `FirehoseAuditSink` calls) into an
 * S3 bucket with Object Lock.
 *
 * - **Bucket.** Object Lock with a default COMPLIANCE retention of `retentionDays` (so every object
 *   Firehose writes is immutable that long: the trail is tamper-proof, the way the embedded log's
 *   hash chain is tamper-evident), versioning, SSE-KMS with the customer key and S3 Bucket Keys,
 *   all public access blocked, TLS-only bucket policy (`enforceSSL`, TLS ≥ 1.2), ACLs disabled,
 *   server access logs into a separate log bucket, lifecycle transition to `archiveStorageClass`
 *   after `archiveAfterDays` (current and noncurrent versions), incomplete multipart uploads
 *   aborted after 7 days. Retained by default.
 * - **Log bucket** (server access logs): SSE-S3 (the only encryption S3 server access logging
 *   supports for its target), versioned, public access blocked, TLS-only, same archive lifecycle.
 * - **Stream.** Direct PUT, server-side encryption with the customer key, buffering hints, objects
 *   under {@link AUDIT_PREFIX}, failures under {@link AUDIT_ERROR_PREFIX}, SSE-KMS on the objects,
 *   delivery errors logged to CloudWatch Logs.
 * - **Role** of the stream, least privilege: trusted by `firehose.amazonaws.com` for this account
 *   only (`sts:ExternalId`); the S3 actions Firehose needs on this bucket (no delete, no ACL, no
 *   retention changes); `kms:GenerateDataKey`/`kms:Decrypt` on the key only via S3 and only for
 *   this bucket's encryption context; `logs:PutLogEvents` on its own log stream.
 *
 * Producers (the consumers' Lambda functions) need `firehose:PutRecord(Batch)` on {@link stream}:
 * the stack grants that (`grantPutRecords`), not this construct.
 */
export class FanoutAudit extends Construct {
  /** The delivery stream, for grants (`grantPutRecords`). */
  readonly stream: firehose.IDeliveryStream;
  /** Name for FANOUT_AUDIT_STREAM. */
  readonly deliveryStreamName: string;
  readonly deliveryStreamArn: string;
  readonly deliveryStream: firehose.CfnDeliveryStream;
  readonly bucket: s3.IBucket;
  readonly accessLogBucket: s3.IBucket;
  readonly encryptionKey: kms.IKey;
  /** The role Firehose assumes to write to the bucket. */
  readonly role: iam.IRole;
  readonly logGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: FanoutAuditProps = {}) {
    super(scope, id);
    // Server access logs are granted by a bucket policy on the log bucket (ACLs stay disabled),
    // whatever the app's feature flags: the flag is read from this subtree's context.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retentionDays = props.retentionDays ?? 365;
    const archiveAfterDays = props.archiveAfterDays ?? 90;
    const bufferingSize = props.bufferingSizeMiB ?? 64;
    const bufferingSeconds = (props.bufferingInterval ?? Duration.seconds(300)).toSeconds();
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
      throw new Error(`retentionDays must be a positive integer, got ${retentionDays}`);
    }
    if (!Number.isInteger(archiveAfterDays) || archiveAfterDays < 0) {
      throw new Error(`archiveAfterDays must be a non-negative integer, got ${archiveAfterDays}`);
    }
    if (!Number.isInteger(bufferingSize) || bufferingSize < 1 || bufferingSize > 128) {
      throw new Error(`bufferingSizeMiB must be an integer in [1, 128], got ${bufferingSize}`);
    }
    if (bufferingSeconds < 0 || bufferingSeconds > 900) {
      throw new Error(`bufferingInterval must be at most 900 s, got ${bufferingSeconds} s`);
    }
    const storageClass = props.archiveStorageClass ?? s3.StorageClass.GLACIER;
    const transitionAfter = Duration.days(archiveAfterDays);

    const key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Fanout audit trail: Firehose stream and S3 objects',
        enableKeyRotation: true,
        rotationPeriod: Duration.days(365),
        removalPolicy,
      });
    this.encryptionKey = key;

    // Both buckets age into colder storage the same way, old versions included.
    const archive: s3.LifecycleRule = {
      id: 'archive',
      transitions: [{ storageClass, transitionAfter }],
      noncurrentVersionTransitions: [{ storageClass, transitionAfter }],
      abortIncompleteMultipartUploadAfter: Duration.days(7),
    };

    const accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [archive],
      removalPolicy,
    });
    this.accessLogBucket = accessLogBucket;

    const bucket = new s3.Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(retentionDays)),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogBucket,
      serverAccessLogsPrefix: 'audit-bucket/',
      lifecycleRules: [archive],
      removalPolicy,
    });
    this.bucket = bucket;

    const logGroup = new logs.LogGroup(this, 'DeliveryLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });
    const logStream = new logs.LogStream(this, 'DeliveryLogStream', {
      logGroup,
      logStreamName: 'S3Delivery',
      removalPolicy,
    });
    this.logGroup = logGroup;

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'sts:ExternalId': Aws.ACCOUNT_ID } },
      }),
      description: 'Firehose delivery of the Fanout audit trail to its Object Lock bucket',
    });
    this.role = role;
    const policy = new iam.Policy(this, 'RolePolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'BucketLevel',
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'ObjectLevel',
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          resources: [bucket.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'KeyViaS3',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [key.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` },
            // With S3 Bucket Keys the context is the bucket's ARN, without them the object's.
            StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucket.bucketArn, bucket.arnForObjects('*')] },
          },
        }),
        new iam.PolicyStatement({
          sid: 'DeliveryLogs',
          actions: ['logs:PutLogEvents'],
          resources: [
            `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
          ],
        }),
      ],
    });
    policy.attachToRole(role);
    const bucketLogicalId = Stack.of(this).getLogicalId(bucket.node.defaultChild as CfnElement);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/*]`,
      reason:
        'Firehose names its objects itself (prefix, stream name, time, random id), so it must write any key of the audit bucket; Object Lock keeps what it wrote, and the role has no delete or retention action.',
    });

    const stream = new firehose.CfnDeliveryStream(this, 'Stream', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: key.keyArn },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: AUDIT_PREFIX,
        errorOutputPrefix: AUDIT_ERROR_PREFIX,
        bufferingHints: { intervalInSeconds: bufferingSeconds, sizeInMBs: bufferingSize },
        compressionFormat: props.compression ?? 'UNCOMPRESSED',
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: key.keyArn } },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: logGroup.logGroupName,
          logStreamName: logStream.logStreamName,
        },
        s3BackupMode: 'Disabled',
      },
    });
    // Firehose checks its role when the stream is created: the policy must exist first.
    stream.node.addDependency(policy);
    this.deliveryStream = stream;
    this.deliveryStreamName = stream.ref;
    this.deliveryStreamArn = stream.attrArn;
    this.stream = firehose.DeliveryStream.fromDeliveryStreamAttributes(this, 'Imported', {
      deliveryStreamArn: stream.attrArn,
      deliveryStreamName: stream.ref,
    });
  }
}
