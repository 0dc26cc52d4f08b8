import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROVISIONED_TABLES } from '../../infra/constructs/data.ts';
import { PLATFORM_APPLICATION_RESOURCE_TYPE } from '../../infra/constructs/transport.ts';
import type { FanoutStack, FanoutStackProps } from '../../infra/stack.ts';
import { FULL_PROPS, synthStack } from './support.ts';

// Direct push with the rest of the lowest-cost configuration (docs/deploy.md): provisioned
// capacity on the inbox and events tables, consumers of 512 MB taking batches of 100.
const DIRECT: FanoutStackProps = {
  ...FULL_PROPS,
  pushDelivery: 'direct',
  tableCapacity: { tables: DEFAULT_PROVISIONED_TABLES },
  consumerMemorySize: 512,
  deliveryBatchSize: 100,
  pushProvidersSecret: 'fanout/push-providers',
  webPushVapidSecret: 'fanout/webpush-vapid',
  push: {
    ...FULL_PROPS.push,
    apns: { ...FULL_PROPS.push!.apns!, platform: 'APNS_SANDBOX' },
  },
};

let stack: FanoutStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthStack(DIRECT, 'FanoutDirect'));
}, 300_000);

/** The push consumer's resource in the template. */
function pushConsumer(): { Properties: { Environment: { Variables: Record<string, unknown> } } } {
  const logicalId = stack.getLogicalId(stack.delivery.consumers.push.node.defaultChild as never);
  return template.toJSON().Resources[logicalId];
}

describe('pushDelivery: direct', () => {
  it('makes no SNS platform application: the credentials go to the push consumer instead', () => {
    template.resourceCountIs(PLATFORM_APPLICATION_RESOURCE_TYPE, 0);
    const vars = pushConsumer().Properties.Environment.Variables;
    expect(vars).toMatchObject({
      FANOUT_APNS_SECRET_ID: 'fanout/apns-signing-key',
      FANOUT_APNS_KEY_ID: 'ABC123DEFG',
      FANOUT_APNS_TEAM_ID: 'TEAM123456',
      FANOUT_APNS_TOPIC: 'com.example.app',
      FANOUT_APNS_ENVIRONMENT: 'sandbox',
      FANOUT_FCM_SECRET_ID: 'fanout/fcm-service-account',
      FANOUT_PUSH_PROVIDERS_SECRET_ID: 'fanout/push-providers',
      FANOUT_VAPID_SECRET_ID: 'fanout/webpush-vapid',
    });
    expect(vars).not.toHaveProperty('FANOUT_SNS_APNS_ARN');
    expect(vars).not.toHaveProperty('FANOUT_SNS_FCM_ARN');
  });

  it('names the secrets, never their values, and gives them to no other function', () => {
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toMatch(/BEGIN PRIVATE KEY|private_key/);
    for (const fn of [stack.delivery.consumers.email, stack.worker.function, stack.ingest.eventApi]) {
      const logicalId = stack.getLogicalId(fn.node.defaultChild as never);
      const vars = template.toJSON().Resources[logicalId].Properties.Environment.Variables;
      expect(Object.keys(vars).filter((k) => /APNS|FCM|PUSH_PROVIDERS|VAPID/.test(k))).toEqual([]);
    }
  });

  it('gives the inbox API the VAPID public key, resolved from the secret at deployment, and nothing else of it', () => {
    const logicalId = stack.getLogicalId(stack.ingest.inboxApi.node.defaultChild as never);
    const vars = template.toJSON().Resources[logicalId].Properties.Environment.Variables;
    const key = JSON.stringify(vars.FANOUT_VAPID_PUBLIC_KEY);
    expect(key).toContain('{{resolve:secretsmanager:');
    expect(key).toContain('webpush-vapid:SecretString:publicKey::}}');
    expect(vars).not.toHaveProperty('FANOUT_VAPID_SECRET_ID');
    // Bumped with pushCredentialsRevision after a rotation, so the reference is resolved again.
    expect(vars.FANOUT_VAPID_KEY_REVISION).toBe('1');
  });

  it('lets the push consumer alone read the four secrets', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const readers = Object.values(policies).filter((p) =>
      JSON.stringify(p).includes('secretsmanager:GetSecretValue'),
    );
    const pushRole = stack.getLogicalId(stack.delivery.consumers.push.role!.node.defaultChild as never);
    const holders = readers.map((p) =>
      JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles),
    );
    expect(holders.some((roles) => roles.includes(pushRole))).toBe(true);
    const pushPolicy = JSON.stringify(
      readers.find((p) =>
        JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(pushRole),
      ),
    );
    for (const name of [
      'fanout/apns-signing-key',
      'fanout/fcm-service-account',
      'fanout/push-providers',
      'fanout/webpush-vapid',
    ]) {
      expect(pushPolicy).toContain(`:secret:${name}-??????`);
    }
    // The SNS mode's endpoint rights are not needed.
    expect(pushPolicy).not.toContain('sns:Publish');
    // No other role may read them: every policy that names one of them is the push consumer's alone.
    const naming = Object.values(policies).filter((p) =>
      /fanout\/(apns-signing-key|fcm-service-account|push-providers|webpush-vapid)/.test(JSON.stringify(p)),
    );
    expect(naming.length).toBeGreaterThan(0);
    for (const policy of naming) {
      expect((policy as { Properties: { Roles: unknown } }).Properties.Roles).toEqual([{ Ref: pushRole }]);
    }
  });

  it('routes the functions out through a NAT gateway, which direct push needs', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  it('gives the route out to the push consumer alone: every other function stays in isolated subnets', () => {
    // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are plain JSON.
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
    // Subnets whose route table sends 0.0.0.0/0 to a NAT gateway.
    const tableOf = new Map<string, string>();
    for (const r of Object.values(resources)) {
      if (r.Type === 'AWS::EC2::SubnetRouteTableAssociation') {
        tableOf.set(r.Properties.SubnetId.Ref, r.Properties.RouteTableId.Ref);
      }
    }
    const natTables = new Set(
      Object.values(resources)
        .filter((r) => r.Type === 'AWS::EC2::Route' && r.Properties.NatGatewayId !== undefined)
        .map((r) => r.Properties.RouteTableId.Ref),
    );
    const routedOut = (fn: unknown) => {
      const id = stack.getLogicalId((fn as { node: { defaultChild: never } }).node.defaultChild);
      const subnets = resources[id]!.Properties.VpcConfig.SubnetIds.map((s: { Ref: string }) => s.Ref);
      return subnets.map((subnet: string) => natTables.has(tableOf.get(subnet)!));
    };
    expect(routedOut(stack.delivery.consumers.push)).toEqual([true, true]);
    for (const fn of [
      stack.delivery.consumers.email,
      stack.worker.function,
      stack.ingest.eventApi,
      stack.ingest.inboxApi,
    ]) {
      expect(routedOut(fn)).toEqual([false, false]);
    }
  });

  it('refuses a stack with no route to the internet', () => {
    expect(() => synthStack({ ...DIRECT, natGateways: 0 }, 'FanoutDirectNoNat')).toThrow(/NAT gateway/);
  });

  it('refuses web push without direct delivery: the push consumer would have no way out to the browsers', () => {
    const { pushDelivery: _direct, ...sns } = DIRECT;
    expect(() => synthStack(sns, 'FanoutWebPushNoRoute')).toThrow(
      /webPushVapidSecret needs pushDelivery direct/,
    );
  });

  it('passes cdk-nag with every finding acknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });
});

describe('the lowest-cost configuration', () => {
  it('provisions the inbox and events tables with auto scaling, and leaves the others on-demand', () => {
    const tables = template.findResources('AWS::DynamoDB::GlobalTable');
    const billing = Object.fromEntries(
      Object.values(tables).map((t) => [
        String(t.Properties.TableName).replace('fanout-test-', ''),
        t.Properties.BillingMode,
      ]),
    );
    expect(billing).toMatchObject({
      inbox: 'PROVISIONED',
      events: 'PROVISIONED',
      followers: 'PAY_PER_REQUEST',
    });
    expect(Object.values(billing).filter((b) => b === 'PROVISIONED')).toHaveLength(2);
  });

  it('gives both consumers 512 MB and batches of 100 jobs within the 1 s batching window', () => {
    for (const consumer of [stack.delivery.consumers.push, stack.delivery.consumers.email]) {
      const logicalId = stack.getLogicalId(consumer.node.defaultChild as never);
      expect(template.toJSON().Resources[logicalId].Properties.MemorySize).toBe(512);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId },
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 1,
      });
    }
  });
});
