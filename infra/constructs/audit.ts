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
  /**
   * Days an object stays in the landing bucket Firehose writes to, after S3 Replication has copied
   * it into the Object Lock trail (replication takes minutes; an object whose replication failed is
   * still there to retry for this long, see the `audit-replication` alarm).
   * @default 30
   */
  readonly landingRetentionDays?: number;
  /** Removal policy of the buckets, the key and the log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** Id of the replication rule from the landing bucket into the trail (a dimension of its metrics). */
export const AUDIT_REPLICATION_RULE_ID = 'audit-trail';

/** S3 prefix of delivered audit records (Firehose's timestamp is the arrival time, UTC). */
export const AUDIT_PREFIX = 'audit/!{timestamp:yyyy/MM/dd/HH}/';
/** S3 prefix of records Firehose could not deliver or process. */
export const AUDIT_ERROR_PREFIX = 'audit-errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/';

/**
 * The audit trail: a Firehose delivery stream (Direct PUT, what `FirehoseAuditSink` calls) into a
 * landing bucket, replicated by S3 Replication into an S3 bucket with Object Lock.
 *
 * Why not Firehose straight into the Object Lock bucket: S3 rejects an upload to a bucket with a
 * default retention unless it carries a `Content-MD5` or `x-amz-checksum-*` header ("Uploading
 * objects to an Object Lock enabled bucket", Amazon S3 User Guide, Object Lock considerations), and
 * Firehose's documentation promises neither header for its S3 writes, so such a delivery stream is
 * not known to work. S3 Replication into an Object Lock bucket is documented ("Using Object Lock
 * with S3 Replication", same page): replicas take the destination's default retention. So
 * Firehose writes to an ordinary versioned bucket, and S3 copies each object into the trail, where
 * it is locked.
 *
 * - **Landing bucket.** What Firehose writes to: versioned (replication needs it), SSE-KMS with
 *   the same key, public access blocked, TLS only, access logs; its objects expire after
 *   `landingRetentionDays` (the trail keeps the locked copy). One replication rule
 *   ({@link AUDIT_REPLICATION_RULE_ID}) copies every object, KMS-encrypted ones included, into the
 *   trail with S3 Replication Time Control (15 minutes) and replication metrics; delete markers are
 *   not replicated.
 * - **Replication role**, trusted by `s3.amazonaws.com` for this account: read the landing
 *   bucket's objects for replication (with their retention and legal hold, which Object Lock
 *   replication asks for), replicate objects and tags into the trail (no delete), decrypt and
 *   encrypt with the key via S3 only.
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
 * - **Stream.** Direct PUT into the landing bucket, server-side encryption with the customer key, buffering hints, objects
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
  /** The trail: Object Lock, default COMPLIANCE retention. */
  readonly bucket: s3.IBucket;
  /** Where Firehose writes; replicated into {@link bucket}. */
  readonly landingBucket: s3.IBucket;
  /** The role S3 Replication copies objects into the trail with. */
  readonly replicationRole: iam.IRole;
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
    const landingDays = props.landingRetentionDays ?? 30;
    if (!Number.isInteger(landingDays) || landingDays < 1) {
      throw new Error(`landingRetentionDays must be a positive integer, got ${landingDays}`);
    }
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

    const replicationRole = new iam.Role(this, 'ReplicationRole', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description:
        'S3 Replication of the Fanout audit trail from its landing bucket into the Object Lock bucket',
    });
    this.replicationRole = replicationRole;
    const landingBucket = new s3.Bucket(this, 'LandingBucket', {
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogBucket,
      serverAccessLogsPrefix: 'landing-bucket/',
      lifecycleRules: [
        {
          id: 'expire-after-replication',
          expiration: Duration.days(landingDays),
          noncurrentVersionExpiration: Duration.days(1),
          expiredObjectDeleteMarker: false,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      replicationRole,
      replicationRules: [
        {
          id: AUDIT_REPLICATION_RULE_ID,
          priority: 1,
          destination: bucket,
          sseKmsEncryptedObjects: true,
          kmsKey: key,
          replicationTimeControl: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
          metrics: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
          deleteMarkerReplication: false,
        },
      ],
      removalPolicy,
    });
    this.landingBucket = landingBucket;
    const replicationPolicy = new iam.Policy(this, 'ReplicationPolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadLandingConfiguration',
          actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
          resources: [landingBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadLandingObjects',
          actions: [
            's3:GetObjectVersionForReplication',
            's3:GetObjectVersionAcl',
            's3:GetObjectVersionTagging',
            's3:GetObjectRetention',
            's3:GetObjectLegalHold',
          ],
          resources: [landingBucket.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'ReplicateIntoTrail',
          actions: ['s3:ReplicateObject', 's3:ReplicateTags'],
          resources: [bucket.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptLandingViaS3',
          actions: ['kms:Decrypt'],
          resources: [key.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` },
            StringLike: {
              'kms:EncryptionContext:aws:s3:arn': [landingBucket.bucketArn, landingBucket.arnForObjects('*')],
            },
          },
        }),
        new iam.PolicyStatement({
          sid: 'EncryptTrailViaS3',
          actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [key.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` },
            StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucket.bucketArn, bucket.arnForObjects('*')] },
          },
        }),
      ],
    });
    replicationPolicy.attachToRole(replicationRole);
    const stackOf = Stack.of(this);
    const landingLogicalId = stackOf.getLogicalId(landingBucket.node.defaultChild as CfnElement);
    const trailLogicalId = stackOf.getLogicalId(bucket.node.defaultChild as CfnElement);
    for (const [logicalId, what] of [
      [landingLogicalId, 'every object of the landing bucket (S3 names the versions it replicates)'],
      [trailLogicalId, 'any key of the trail (replicas keep the names Firehose gave)'],
    ] as const) {
      Validations.of(replicationPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/*]`,
        reason: `S3 Replication must reach ${what}; the role can neither delete nor change retention.`,
      });
    }
    // No dependency of the bucket on this policy (the policy names the bucket: a cycle). S3 checks
    // the role's permissions when it replicates, not when the configuration is put, and the first
    // object arrives only after Firehose's first buffer.

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
      description: 'Firehose delivery of the Fanout audit trail to its landing bucket',
    });
    this.role = role;
    const policy = new iam.Policy(this, 'RolePolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'BucketLevel',
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [landingBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'ObjectLevel',
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          resources: [landingBucket.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'KeyViaS3',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [key.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` },
            // With S3 Bucket Keys the context is the bucket's ARN, without them the object's.
            StringLike: {
              'kms:EncryptionContext:aws:s3:arn': [landingBucket.bucketArn, landingBucket.arnForObjects('*')],
            },
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
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${landingLogicalId}.Arn>/*]`,
      reason:
        'Firehose names its objects itself (prefix, stream name, time, random id), so it must write any key of the landing bucket; replication copies each into the Object Lock trail, and the role has no delete action.',
    });

    const stream = new firehose.CfnDeliveryStream(this, 'Stream', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: key.keyArn },
      extendedS3DestinationConfiguration: {
        bucketArn: landingBucket.bucketArn,
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
