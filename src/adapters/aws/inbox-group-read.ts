import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { UserKey } from '../../domain/types.ts';
import type { InboxGroup } from '../../ports/inbox.ts';
import { awsCall } from './errors.ts';
import { type DynamoContext, reportCapacity } from './inbox-batch.ts';
import { groupsPk } from './inbox-groups.ts';

/**
 * `Inbox.group` on DynamoDB: one strongly consistent GetItem of the group item (inbox-groups.ts),
 * projected to its row id, count and newest actors. A write still in flight (an intent not yet
 * committed) is not counted yet: its commit brings the count up, and the push that follows it sees it.
 */
export async function readGroup(
  ctx: DynamoContext,
  table: string,
  user: UserKey,
  groupKey: string,
): Promise<InboxGroup | undefined> {
  const out = await awsCall('inbox group read', () =>
    ctx.documents.send(
      new GetCommand({
        TableName: table,
        Key: { pk: groupsPk(user), sk: groupKey },
        ConsistentRead: true,
        ProjectionExpression: '#r, #n, #ga',
        ExpressionAttributeNames: { '#r': 'r', '#n': 'n', '#ga': 'ga' },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    ),
  );
  reportCapacity(ctx.capacity, 'read', out.ConsumedCapacity);
  const item = out.Item as { r?: string; n?: number; ga?: [string, number][] } | undefined;
  if (item?.r === undefined || item.n === undefined || item.n <= 0) return undefined;
  return { id: item.r, actorCount: item.n, actors: (item.ga ?? []).map(([actorId]) => actorId) };
}
