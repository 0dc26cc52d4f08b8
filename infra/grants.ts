import { Arn, type CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kinesisfirehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { TableName } from '../src/adapters/aws/tables.ts';
import type { Channel } from '../src/domain/types.ts';

/** The functions of the stack, by role. */
export interface GrantFunctions {
  readonly eventApi: lambda.IFunction;
  readonly inboxApi: lambda.IFunction;
  readonly authorizer: lambda.IFunction;
  readonly fanout: lambda.IFunction;
  readonly consumers: Readonly<Record<Channel, lambda.IFunction>>;
  /** The preference-invalidation function: Redis only, no grant. */
  readonly invalidation?: lambda.IFunction;
  /** The dead-letter audit: peeks at the DLQs, appends to the audit stream. */
  readonly deadLetterAudit?: lambda.IFunction;
  /** The email digest sender: the schedule, inbox and preferences reads, SES, the audit stream. */
  readonly emailDigest?: lambda.IFunction;
}

/** What the functions are granted access to. */
export interface GrantResources {
  readonly tables: Readonly<Record<TableName, dynamodb.ITableV2>>;
  readonly stream: kinesis.IStream;
  readonly queues: Readonly<Record<Channel, sqs.IQueue>>;
  readonly deadLetterQueues: Readonly<Record<Channel, sqs.IQueue>>;
  /** The audit trail's Firehose stream. */
  readonly auditStream?: kinesisfirehose.IDeliveryStream;
  /** ARNs of the SES identity the email consumer sends as, and of its configuration set. */
  readonly ses?: { readonly identityArn: string; readonly configurationSetArn?: string };
  /** ARNs of the SNS platform applications the push consumer creates endpoints in. */
  readonly platformApplicationArns?: readonly string[];
  /** Secrets the push consumer reads at cold start for direct APNs / FCM (credentials, providers document). */
  readonly pushSecrets?: readonly secretsmanager.ISecret[];
  /** Where the push consumer keeps frequency-cap counters; MemoryDB needs no IAM grant. @default 'memorydb' */
  readonly frequencyCapStore?: 'memorydb' | 'dynamodb';
}

/**
 * Every IAM grant of the stack, in one place, least privilege. What each function may do follows
 * from the ports its handler uses (docs/architecture.md, "AWS mode"):
 *
 * - event API: append events (stream put, `events` claims), follows, devices, preferences (read and
 *   write), tenants (read: API keys; write: the operator's key rotation), queue depths for `/v1/ops/*`; a follow or unfollow catches
 *   the follower up first: celebrity pointers and their arrival log (read), inbox (read and write);
 * - inbox API: inbox rows (read, mark read, and the rows and catch-up mark a catch-up writes),
 *   celebrity pointers, their arrival log and followings (read), tenants (read: tells an API key
 *   from a token), preferences (read, and PutItem: unsubscribe links);
 * - authorizer: tenants (read);
 * - fan-out: followers (read; tier items are written), inbox and celebrity feed (read and write),
 *   tenants (read: their aggregation rules), send to both delivery queues. Its stream read and failure-queue send come with its event source;
 * - consumers: preferences (read), inbox (BatchGetItem only: retracted events' tombstones), devices (read and write: deactivate, endpoint ARNs), the audit
 *   stream (put), SES send as the identity (email) or SNS endpoints of the platform apps (push);
 *   for direct push, read on the credential secrets (push consumer only); with frequency caps on
 *   DynamoDB, read and PutItem on the `frequencyCaps` table (push consumer only); read on the inbox
 *   table (push consumer only: a digest push reads its group's item).
 *   Receive/delete and sending to their own queue (deferrals) come with their construct;
 * - preference invalidation: nothing (it only deletes Redis keys; the Pipe's role reads the stream);
 * - dead-letter audit: receive and change visibility on the two DLQs (it peeks, never deletes), read
 *   the queues' attributes (their redrive policy), put to the audit stream;
 * - email consumer, besides: BatchWriteItem on the `digestSchedule` table (it schedules digests);
 * - email digest sender: the `digestSchedule` table (Query, and BatchWriteItem to clear what it
 *   sent), inbox and preferences (read), SES send as the identity, put to the audit stream.
 */
export function grantAll(fns: GrantFunctions, res: GrantResources): void {
  const { tables } = res;

  // Event API
  res.stream.grantWrite(fns.eventApi);
  tableAccess(tables.events, fns.eventApi, 'readWrite');
  tableAccess(tables.followers, fns.eventApi, 'readWrite');
  tableAccess(tables.inbox, fns.eventApi, 'readWrite');
  tableAccess(tables.celebrityFeed, fns.eventApi, 'read');
  tableAccess(tables.devices, fns.eventApi, 'readWrite');
  tableAccess(tables.preferences, fns.eventApi, 'readWrite');
  // Write: the operator's key rotation routes (`/v1/ops/tenants/{id}/keys`) add and delete key items.
  tableAccess(tables.tenants, fns.eventApi, 'readWrite');
  for (const queue of [...Object.values(res.queues), ...Object.values(res.deadLetterQueues)]) {
    queue.grant(fns.eventApi, 'sqs:GetQueueAttributes');
  }

  // Inbox API
  tableAccess(tables.inbox, fns.inboxApi, 'readWrite');
  tableAccess(tables.celebrityFeed, fns.inboxApi, 'read');
  tableAccess(tables.followers, fns.inboxApi, 'read');
  tableAccess(tables.tenants, fns.inboxApi, 'read');
  // Unsubscribe links turn email off in the user's preferences: a read, then one PutItem of the
  // whole record (the store's `put`). No delete, no batch write, no update.
  tableAccess(tables.preferences, fns.inboxApi, 'read');
  tables.preferences.grant(fns.inboxApi, 'dynamodb:PutItem');
  tables.preferences.encryptionKey?.grantEncrypt(fns.inboxApi);

  // Authorizer
  tableAccess(tables.tenants, fns.authorizer, 'read');

  // Fan-out
  tableAccess(tables.followers, fns.fanout, 'readWrite');
  tableAccess(tables.inbox, fns.fanout, 'readWrite');
  tableAccess(tables.celebrityFeed, fns.fanout, 'readWrite');
  tableAccess(tables.tenants, fns.fanout, 'read');
  for (const queue of Object.values(res.queues)) queue.grantSendMessages(fns.fanout);

  // Consumers
  for (const consumer of Object.values(fns.consumers)) {
    tableAccess(tables.preferences, consumer, 'read');
    res.auditStream?.grantPutRecords(consumer);
    // Tombstones of retracted events: one BatchGetItem per batch on the table itself (not its
    // indexes), nothing else of the inbox.
    consumer.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadRetractionTombstones',
        actions: ['dynamodb:BatchGetItem'],
        resources: [tables.inbox.tableArn],
      }),
    );
    tables.inbox.encryptionKey?.grantDecrypt(consumer);
  }
  // Dead-letter audit: peeks (receive, then visible again) and never deletes, so the messages
  // stay for the operator's redrive.
  if (fns.deadLetterAudit !== undefined) {
    const auditor = fns.deadLetterAudit;
    for (const dlq of Object.values(res.deadLetterQueues)) {
      dlq.grant(auditor, 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes');
      dlq.encryptionMasterKey?.grantDecrypt(auditor);
    }
    for (const queue of Object.values(res.queues)) queue.grant(auditor, 'sqs:GetQueueAttributes');
    res.auditStream?.grantPutRecords(auditor);
  }

  // Email digests: the consumer only adds entries; the sender reads them and deletes what it sent.
  tables.digestSchedule.grant(fns.consumers.email, 'dynamodb:BatchWriteItem');
  tables.digestSchedule.encryptionKey?.grantEncrypt(fns.consumers.email);
  if (fns.emailDigest !== undefined) {
    const digest = fns.emailDigest;
    tables.digestSchedule.grant(digest, 'dynamodb:Query', 'dynamodb:BatchWriteItem');
    tables.digestSchedule.encryptionKey?.grantEncryptDecrypt(digest);
    if (digest.role !== undefined) Validations.of(digest.role).acknowledge(...KEY_GRANT_FINDINGS);
    // The period's inbox pages (Query, the state item) and the user's preferences (the email
    // address among them): key reads only, never a Scan across tenants, nor the indexes.
    itemReads(tables.inbox, digest, ['dynamodb:Query', 'dynamodb:GetItem']);
    itemReads(tables.preferences, digest, ['dynamodb:GetItem', 'dynamodb:BatchGetItem']);
    res.auditStream?.grantPutRecords(digest);
  }

  // Only push reads devices, and writes them when a provider rejects a token.
  tableAccess(tables.devices, fns.consumers.push, 'readWrite');
  // Push digests read the group's inbox item (one GetItem), to show it as it is at the window's end.
  itemReads(tables.inbox, fns.consumers.push, ['dynamodb:GetItem']);
  // Frequency caps on DynamoDB: a read, then one conditional PutItem of the user's item.
  if (res.frequencyCapStore === 'dynamodb') {
    tableAccess(tables.frequencyCaps, fns.consumers.push, 'read');
    tables.frequencyCaps.grant(fns.consumers.push, 'dynamodb:PutItem');
    tables.frequencyCaps.encryptionKey?.grantEncrypt(fns.consumers.push);
  }
  const stack = Stack.of(fns.consumers.email);
  if (res.ses !== undefined) {
    const resources = [res.ses.identityArn];
    if (res.ses.configurationSetArn !== undefined) resources.push(res.ses.configurationSetArn);
    for (const sender of [fns.consumers.email, ...(fns.emailDigest === undefined ? [] : [fns.emailDigest])]) {
      sender.addToRolePolicy(
        new iam.PolicyStatement({ sid: 'SendEmailAsIdentity', actions: ['ses:SendEmail'], resources }),
      );
    }
  }
  // Only the push consumer ever sees push credentials; the grant covers the secret's key too.
  for (const secret of res.pushSecrets ?? []) secret.grantRead(fns.consumers.push);
  const apps = res.platformApplicationArns ?? [];
  if (apps.length > 0) {
    const push = fns.consumers.push;
    push.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CreateEndpointsInPlatformApps',
        actions: ['sns:CreatePlatformEndpoint'],
        resources: [...apps],
      }),
    );
    // Endpoint ARNs are `endpoint/<platform>/<app>/<id>`, created at run time.
    const endpoints = Arn.format({ service: 'sns', resource: 'endpoint/*' }, stack);
    push.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishToEndpoints',
        actions: ['sns:Publish', 'sns:GetEndpointAttributes', 'sns:SetEndpointAttributes'],
        resources: [endpoints],
      }),
    );
    if (push.role !== undefined) {
      Validations.of(push.role).acknowledge({
        // cdk-nag names the resource as synthesised: concrete region and account when the stack has them.
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sns:${named(stack.region, '<AWS::Region>')}:${named(stack.account, '<AWS::AccountId>')}:endpoint/*]`,
        reason:
          'SNS mobile endpoints are created at run time, one per device token; their ARNs are known only then. Publish is limited to endpoints of this account and region.',
      });
    }
  }
}

/**
 * Table access through the table's own grant (items, its indexes, and its KMS key), with the
 * cdk-nag findings that grant always raises acknowledged on the grantee's role alone.
 */
/** cdk-nag's findings on the wildcard actions of KMS's grant for a table's customer-managed key. */
const KEY_GRANT_FINDINGS = ['kms:ReEncrypt*', 'kms:GenerateDataKey*'].map((action) => ({
  id: `AwsSolutions-IAM5[Action::${action}]`,
  reason:
    "Part of DynamoDB's grant on a table encrypted with a customer-managed key, limited to that key's ARN.",
}));

/** Only these read actions, on the table itself (not its indexes), and decrypting its items. */
function itemReads(table: dynamodb.ITableV2, fn: lambda.IFunction, actions: readonly string[]): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...actions], resources: [table.tableArn] }));
  table.encryptionKey?.grantDecrypt(fn);
}

function tableAccess(table: dynamodb.ITableV2, fn: lambda.IFunction, mode: 'read' | 'readWrite'): void {
  if (mode === 'read') table.grantReadData(fn);
  else table.grantReadWriteData(fn);
  const role = fn.role;
  if (role === undefined) return;
  const stack = Stack.of(table);
  const cfn = table.node.defaultChild as CfnElement | undefined;
  const findings: Record<string, string> = Object.fromEntries(
    KEY_GRANT_FINDINGS.map((f) => [f.id, f.reason]),
  );
  if (cfn !== undefined) {
    findings[`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(cfn)}.Arn>/index/*]`] =
      "The table's own indexes (e.g. the sparse `unread` index of the inbox), under the table's ARN.";
  }
  for (const [id, reason] of Object.entries(findings)) Validations.of(role).acknowledge({ id, reason });
}

/** A stack's region or account as cdk-nag prints it: the value when concrete, else its pseudo name. */
function named(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? pseudo : value;
}
