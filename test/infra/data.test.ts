import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOWEST_COST } from '../../bench/lowest-cost.ts';
import {
  DEFAULT_PROVISIONED_TABLES,
  FanoutData,
  PROVISIONED_DEFAULTS,
  provisionedCapacityFromContext,
} from '../../infra/constructs/data.ts';
import { TABLES, type TableName } from '../../src/adapters/aws/tables.ts';

const ENV = { account: '111111111111', region: 'eu-west-1' } as const;

function synth(props: ConstructorParameters<typeof FanoutData>[2]): Template {
  const stack = new Stack(new App(), 'DataTest', { env: ENV });
  new FanoutData(stack, 'Data', props);
  return Template.fromStack(stack);
}

function tableNamed(template: Template, name: TableName) {
  const tables = template.findResources('AWS::DynamoDB::GlobalTable', {
    Properties: { TableName: `fanout-${name}` },
  });
  const found = Object.values(tables);
  expect(found).toHaveLength(1);
  return found[0] as { Properties: Record<string, unknown> };
}

describe('FanoutData billing', () => {
  it('bills every table on-demand by default', () => {
    const template = synth({});
    for (const name of Object.keys(TABLES) as TableName[]) {
      expect(tableNamed(template, name).Properties.BillingMode).toBe('PAY_PER_REQUEST');
    }
  });

  describe('with provisioned capacity on the inbox and the events tables', () => {
    let template: Template;
    beforeAll(() => {
      template = synth({
        capacity: { tables: ['inbox', 'events'], targetUtilizationPercent: 60, minWriteCapacity: 10 },
      });
    });

    it('provisions the listed tables with auto scaling at the target utilization, between min and max', () => {
      for (const name of ['inbox', 'events'] as const) {
        const props = tableNamed(template, name).Properties;
        expect(props.BillingMode).toBe('PROVISIONED');
        expect(props.WriteProvisionedThroughputSettings).toEqual({
          WriteCapacityAutoScalingSettings: {
            MinCapacity: 10,
            MaxCapacity: PROVISIONED_DEFAULTS.maxWriteCapacity,
            TargetTrackingScalingPolicyConfiguration: { TargetValue: 60 },
          },
        });
        const replica = (props.Replicas as Record<string, unknown>[])[0] as Record<string, unknown>;
        expect(replica.ReadProvisionedThroughputSettings).toEqual({
          ReadCapacityAutoScalingSettings: {
            MinCapacity: PROVISIONED_DEFAULTS.minReadCapacity,
            MaxCapacity: PROVISIONED_DEFAULTS.maxReadCapacity,
            TargetTrackingScalingPolicyConfiguration: { TargetValue: 60 },
          },
        });
      }
    });

    it("scales the inbox's unread index with the table (its floor is paid too)", () => {
      const props = tableNamed(template, 'inbox').Properties;
      expect(props.GlobalSecondaryIndexes).toEqual([
        expect.objectContaining({
          IndexName: 'unread',
          WriteProvisionedThroughputSettings: {
            WriteCapacityAutoScalingSettings: {
              MinCapacity: 10,
              MaxCapacity: PROVISIONED_DEFAULTS.maxWriteCapacity,
              TargetTrackingScalingPolicyConfiguration: { TargetValue: 60 },
            },
          },
        }),
      ]);
    });

    it('keeps the other tables on-demand', () => {
      for (const name of Object.keys(TABLES) as TableName[]) {
        if (name === 'inbox' || name === 'events') continue;
        expect(tableNamed(template, name).Properties.BillingMode).toBe('PAY_PER_REQUEST');
      }
    });
  });

  it('refuses a target utilization auto scaling would not take, a table that does not exist, and min over max', () => {
    for (const targetUtilizationPercent of [10, 95, 70.5]) {
      expect(() => synth({ capacity: { tables: ['inbox'], targetUtilizationPercent } })).toThrow(
        /targetUtilizationPercent must be an integer from 20 to 90/,
      );
    }
    expect(() => synth({ capacity: { tables: ['nope' as TableName] } })).toThrow(/no table named nope/);
    expect(() =>
      synth({ capacity: { tables: ['inbox'], minWriteCapacity: 50, maxWriteCapacity: 10 } }),
    ).toThrow(/1 <= min <= max/);
  });
});

describe('provisionedCapacityFromContext', () => {
  const from = (values: Record<string, string>) => provisionedCapacityFromContext((key) => values[key]);

  it('is on-demand unless tableBilling says provisioned', () => {
    expect(from({})).toBeUndefined();
    expect(from({ tableBilling: 'onDemand', provisionedTables: 'inbox' })).toBeUndefined();
  });

  it('provisions the inbox and events tables by default, with the given settings', () => {
    expect(from({ tableBilling: 'provisioned' })).toEqual({ tables: [...DEFAULT_PROVISIONED_TABLES] });
    expect(
      from({
        tableBilling: 'provisioned',
        provisionedTables: 'inbox, followers',
        capacityTargetUtilization: '80',
        minWriteCapacity: '20',
        maxWriteCapacity: '1000',
        minReadCapacity: '3',
        maxReadCapacity: '500',
      }),
    ).toEqual({
      tables: ['inbox', 'followers'],
      targetUtilizationPercent: 80,
      minWriteCapacity: 20,
      maxWriteCapacity: 1000,
      minReadCapacity: 3,
      maxReadCapacity: 500,
    });
    expect(from({ tableBilling: 'provisioned', provisionedTables: '["inbox"]' })).toEqual({
      tables: ['inbox'],
    });
  });

  it('refuses an unknown billing, table or a capacity that is not a positive integer', () => {
    expect(() => from({ tableBilling: 'reserved' })).toThrow(
      /tableBilling must be 'onDemand' or 'provisioned'/,
    );
    expect(() => from({ tableBilling: 'provisioned', provisionedTables: 'inbox,nope' })).toThrow(
      /provisionedTables must name tables/,
    );
    expect(() => from({ tableBilling: 'provisioned', minWriteCapacity: '0' })).toThrow(
      /minWriteCapacity must be a positive integer/,
    );
  });
});

describe("the aws-cost benchmark's LOWEST_COST", () => {
  it('prices what the CDK app deploys with context tableBilling: provisioned and the lowest-cost consumers', () => {
    expect(LOWEST_COST.provisionedTables).toEqual(DEFAULT_PROVISIONED_TABLES);
    expect(LOWEST_COST.targetUtilization * 100).toBe(PROVISIONED_DEFAULTS.targetUtilizationPercent);
    expect(LOWEST_COST.minWriteCapacity).toBe(PROVISIONED_DEFAULTS.minWriteCapacity);
    expect(LOWEST_COST.minReadCapacity).toBe(PROVISIONED_DEFAULTS.minReadCapacity);
    expect(LOWEST_COST.lambdaMemoryMb.push).toBe(512);
    expect(LOWEST_COST.lambdaMemoryMb.email).toBe(512);
  });
});
