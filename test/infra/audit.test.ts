import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_ERROR_PREFIX,
  AUDIT_PREFIX,
  AUDIT_REPLICATION_RULE_ID,
  FanoutAudit,
} from '../../infra/constructs/audit.ts';

// Arrange (shared): one stack with the defaults, one with every option changed; no Lambda, no bundling.
let stack: Stack;
let audit: FanoutAudit;
let template: Template;
let custom: Template;

beforeAll(() => {
  stack = new Stack(new App(), 'AuditStack');
  audit = new FanoutAudit(stack, 'Audit');
  template = Template.fromStack(stack);
  const other = new Stack(new App(), 'CustomAuditStack');
  new FanoutAudit(other, 'Audit', {
    retentionDays: 30,
    archiveAfterDays: 180,
    archiveStorageClass: s3.StorageClass.DEEP_ARCHIVE,
    bufferingInterval: Duration.seconds(60),
    bufferingSizeMiB: 8,
    compression: 'GZIP',
  });
  custom = Template.fromStack(other);
});

const KEY_ARN = { 'Fn::GetAtt': [Match.stringLikeRegexp('^AuditKey'), 'Arn'] };
/** The same, for plain `expect` matchers. */
const KEY_ARN_VALUE = { 'Fn::GetAtt': [expect.stringMatching(/^AuditKey/), 'Arn'] };

function auditBucketId(t: Template): string {
  const [id] = Object.keys(t.findResources('AWS::S3::Bucket', { Properties: { ObjectLockEnabled: true } }));
  expect(id).toBeDefined();
  return id!;
}

function landingBucketId(t: Template): string {
  const ids = Object.keys(
    t.findResources('AWS::S3::Bucket', { Properties: { ReplicationConfiguration: Match.anyValue() } }),
  );
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

function logBucketId(t: Template): string {
  const ids = Object.keys(t.findResources('AWS::S3::Bucket')).filter(
    (id) => id !== auditBucketId(t) && id !== landingBucketId(t),
  );
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** The policy attached to the role whose logical id starts with `rolePrefix`. */
function policyOfRole(t: Template, rolePrefix: RegExp) {
  const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => rolePrefix.test(r.Ref)),
  );
  expect(policies).toHaveLength(1);
  return policies[0]!;
}

describe('FanoutAudit bucket', () => {
  it('locks every object in COMPLIANCE mode for 365 days by default, versioned', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  it('encrypts with SSE-KMS under the customer key, with S3 Bucket Keys', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, RotationPeriodInDays: 365 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('blocks public access, disables ACLs, and is retained', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        ObjectLockEnabled: true,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('denies requests without TLS, or with TLS below 1.2', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: auditBucketId(template) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      },
    });
  });

  it('writes server access logs to a separate log bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      LoggingConfiguration: {
        DestinationBucketName: { Ref: logBucketId(template) },
        LogFilePrefix: 'audit-bucket/',
      },
    });
  });

  it('moves current and noncurrent versions to GLACIER after 90 days and aborts stale uploads', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'archive',
            Status: 'Enabled',
            Transitions: [{ StorageClass: 'GLACIER', TransitionInDays: 90 }],
            NoncurrentVersionTransitions: [{ StorageClass: 'GLACIER', TransitionInDays: 90 }],
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          },
        ],
      },
    });
  });

  it('follows the retention, archive and storage-class props', () => {
    custom.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
      },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Transitions: [{ StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 180 }],
            NoncurrentVersionTransitions: [{ StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 180 }],
          }),
        ],
      },
    });
  });
});

describe('FanoutAudit access-log bucket', () => {
  it('is SSE-S3, versioned, private, TLS-only, archived and retained', () => {
    const id = logBucketId(template);
    const bucket = template.toJSON().Resources[id];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: {
        Rules: [
          expect.objectContaining({ Transitions: [{ StorageClass: 'GLACIER', TransitionInDays: 90 }] }),
        ],
      },
    });
    expect(bucket.Properties.ObjectLockEnabled).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:PutObject',
            Principal: { Service: 'logging.s3.amazonaws.com' },
          }),
        ]),
      },
    });
  });
});

describe('FanoutAudit delivery stream', () => {
  it('is a Direct PUT stream encrypted with the customer key', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: KEY_ARN },
    });
  });

  it('delivers to the landing bucket (not the Object Lock one) under the hourly prefix, with an error prefix, buffering, SSE-KMS and logging', () => {
    expect(AUDIT_PREFIX).toBe('audit/!{timestamp:yyyy/MM/dd/HH}/');
    expect(AUDIT_ERROR_PREFIX).toContain('!{firehose:error-output-type}');
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: {
        BucketARN: { 'Fn::GetAtt': [landingBucketId(template), 'Arn'] },
        RoleARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AuditRole'), 'Arn'] },
        Prefix: 'audit/!{timestamp:yyyy/MM/dd/HH}/',
        ErrorOutputPrefix: 'audit-errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/',
        BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 64 },
        CompressionFormat: 'UNCOMPRESSED',
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: KEY_ARN } },
        CloudWatchLoggingOptions: {
          Enabled: true,
          LogGroupName: { Ref: Match.stringLikeRegexp('^AuditDeliveryLogs') },
          LogStreamName: { Ref: Match.stringLikeRegexp('^AuditDeliveryLogStream') },
        },
        S3BackupMode: 'Disabled',
      },
    });
  });

  it('is created after its role policy', () => {
    const [policyId] = Object.keys(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^AuditRole[0-9A-F]') }] },
      }),
    );
    template.hasResource('AWS::KinesisFirehose::DeliveryStream', {
      DependsOn: Match.arrayWith([policyId!]),
    });
  });

  it('follows the buffering and compression props', () => {
    custom.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 8 },
        CompressionFormat: 'GZIP',
      }),
    });
  });

  it('logs delivery errors to a retained log group with retention', () => {
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::Logs::LogStream', {
      LogGroupName: { Ref: Match.stringLikeRegexp('^AuditDeliveryLogs') },
      LogStreamName: 'S3Delivery',
    });
  });

  it('exposes its name and ARN, and an IDeliveryStream for grants', () => {
    const [streamId] = Object.keys(template.findResources('AWS::KinesisFirehose::DeliveryStream'));
    expect(stack.resolve(audit.deliveryStreamName)).toEqual({ Ref: streamId });
    expect(stack.resolve(audit.deliveryStreamArn)).toEqual({ 'Fn::GetAtt': [streamId, 'Arn'] });
    expect(stack.resolve(audit.stream.deliveryStreamArn)).toEqual({ 'Fn::GetAtt': [streamId, 'Arn'] });
    // grantPutRecords works on the exposed stream, for the stack's grants (checked on a copy).
    const copy = new Stack(new App(), 'GrantStack');
    const copyAudit = new FanoutAudit(copy, 'Audit');
    const role = new iam.Role(copy, 'Producer', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    copyAudit.stream.grantPutRecords(role);
    Template.fromStack(copy).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Producer') }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AuditStream'), 'Arn'] },
          }),
        ],
      },
    });
  });
});

describe('FanoutAudit Firehose role', () => {
  it('is assumable by Firehose for this account only', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'firehose.amazonaws.com' },
            Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    });
  });

  it('may write to the landing bucket, use the key only through S3 for it, and log; nothing more', () => {
    const bucketArn = { 'Fn::GetAtt': [landingBucketId(template), 'Arn'] };
    const objectsArn = { 'Fn::Join': ['', [bucketArn, '/*']] };
    expect(Object.keys(template.findResources('AWS::IAM::Policy'))).toHaveLength(2);
    const policy = policyOfRole(template, /^AuditRole[0-9A-F]/);
    expect(policy.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^AuditRole/) }]);
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements).toEqual([
      {
        Sid: 'BucketLevel',
        Effect: 'Allow',
        Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        Resource: bucketArn,
      },
      {
        Sid: 'ObjectLevel',
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        Resource: objectsArn,
      },
      {
        Sid: 'KeyViaS3',
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^AuditKey/), 'Arn'] },
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucketArn, objectsArn] },
        },
      },
      {
        Sid: 'DeliveryLogs',
        Effect: 'Allow',
        Action: 'logs:PutLogEvents',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':logs:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':log-group:',
              { Ref: expect.stringMatching(/^AuditDeliveryLogs/) },
              ':log-stream:',
              { Ref: expect.stringMatching(/^AuditDeliveryLogStream/) },
            ],
          ],
        },
      },
    ]);
    const json = JSON.stringify(statements);
    expect(json).not.toMatch(/s3:Delete|s3:PutObjectRetention|s3:BypassGovernanceRetention|s3:\*|kms:\*/);
    expect(json).not.toContain('"Resource":"*"');
  });
});

describe('FanoutAudit landing bucket and replication into the Object Lock trail', () => {
  it('replicates every object, KMS-encrypted ones included, into the trail with RTC and metrics, no delete markers', () => {
    const landing = template.toJSON().Resources[landingBucketId(template)];
    expect(landing.Properties.ObjectLockEnabled).toBeUndefined();
    expect(landing.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(landing.Properties.ReplicationConfiguration).toEqual({
      Role: { 'Fn::GetAtt': [expect.stringMatching(/^AuditReplicationRole/), 'Arn'] },
      Rules: [
        {
          Id: AUDIT_REPLICATION_RULE_ID,
          Priority: 1,
          Status: 'Enabled',
          Filter: { Prefix: '' },
          DeleteMarkerReplication: { Status: 'Disabled' },
          SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
          Destination: expect.objectContaining({
            Bucket: { 'Fn::GetAtt': [auditBucketId(template), 'Arn'] },
            EncryptionConfiguration: { ReplicaKmsKeyID: KEY_ARN_VALUE },
            ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
            Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
          }),
        },
      ],
    });
  });

  it('keeps the trail as the only Object Lock bucket, with its default COMPLIANCE retention', () => {
    const locked = template.findResources('AWS::S3::Bucket', { Properties: { ObjectLockEnabled: true } });
    expect(Object.keys(locked)).toEqual([auditBucketId(template)]);
    expect(Object.values(locked)[0]!.Properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } },
    });
  });

  it('is encrypted, private, TLS-only, logged, and expires what was replicated after 30 days', () => {
    const landing = template.toJSON().Resources[landingBucketId(template)];
    expect(landing.DeletionPolicy).toBe('Retain');
    expect(landing.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN_VALUE },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { LogFilePrefix: 'landing-bucket/' },
      LifecycleConfiguration: {
        Rules: [
          expect.objectContaining({
            Id: 'expire-after-replication',
            ExpirationInDays: 30,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            Status: 'Enabled',
          }),
        ],
      },
    });
    const policies = template.findResources('AWS::S3::BucketPolicy', {
      Properties: { Bucket: { Ref: landingBucketId(template) } },
    });
    expect(JSON.stringify(policies)).toContain('aws:SecureTransport');
  });

  it('gives the replication role what Object Lock replication needs, and no delete or retention change', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 's3.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
    const statements = policyOfRole(template, /^AuditReplicationRole/).Properties.PolicyDocument
      .Statement as {
      Sid: string;
      Action: string | string[];
      Resource: unknown;
    }[];
    const bySid = Object.fromEntries(statements.map((st) => [st.Sid, [st.Action].flat()]));
    expect(bySid).toEqual({
      ReadLandingConfiguration: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
      ReadLandingObjects: [
        's3:GetObjectVersionForReplication',
        's3:GetObjectVersionAcl',
        's3:GetObjectVersionTagging',
        's3:GetObjectRetention',
        's3:GetObjectLegalHold',
      ],
      ReplicateIntoTrail: ['s3:ReplicateObject', 's3:ReplicateTags'],
      DecryptLandingViaS3: ['kms:Decrypt'],
      EncryptTrailViaS3: ['kms:Encrypt', 'kms:GenerateDataKey'],
    });
    const replicate = statements.find((st) => st.Sid === 'ReplicateIntoTrail')!;
    expect(replicate.Resource).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [auditBucketId(template), 'Arn'] }, '/*']],
    });
    expect(JSON.stringify(statements)).not.toMatch(
      /ReplicateDelete|s3:Delete|PutObjectRetention|Bypass|s3:\*|kms:\*/,
    );
  });

  it('rejects a landing retention below one day', () => {
    expect(
      () => new FanoutAudit(new Stack(new App(), 'BadLanding'), 'A', { landingRetentionDays: 0 }),
    ).toThrow(/landingRetentionDays/);
  });
});

describe('FanoutAudit cdk-nag', () => {
  it('passes the AwsSolutions checks (the object wildcard of the role acknowledged)', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('FanoutAudit props', () => {
  it('rejects out-of-range retention and buffering', () => {
    const s = new Stack(new App(), 'Bad');
    expect(() => new FanoutAudit(s, 'A', { retentionDays: 0 })).toThrow(/retentionDays/);
    expect(() => new FanoutAudit(s, 'B', { bufferingSizeMiB: 129 })).toThrow(/bufferingSizeMiB/);
    expect(() => new FanoutAudit(s, 'C', { bufferingInterval: Duration.seconds(901) })).toThrow(
      /bufferingInterval/,
    );
  });
});
