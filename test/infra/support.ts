import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FanoutStack, type FanoutStackProps } from '../../infra/stack.ts';

/** The environment of every test stack: Global Tables need a concrete region. */
export const TEST_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

/** Context and props of the full test stack: two replicas, provisioned shards, an SES domain, push. */
export const FULL_PROPS: FanoutStackProps = {
  env: TEST_ENV,
  tablePrefix: 'fanout-test',
  replicaRegions: ['eu-central-1', 'us-east-1'],
  replicaKeyArns: {
    'eu-central-1': 'arn:aws:kms:eu-central-1:123456789012:key/11111111-1111-1111-1111-111111111111',
    'us-east-1': 'arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222',
  },
  kinesisShards: 4,
  sesIdentity: 'mail.example.com',
  publicBaseUrl: 'https://notify.example.com',
  auditRetentionDays: 400,
  alarmEmail: 'ops@example.com',
  apiRateLimit: 500,
  apiBurstLimit: 800,
  fanoutReservedConcurrency: 20,
  frequencyCaps: { default: { push: { limit: 10, windowSeconds: 3600 } } },
  frequencyCapStore: 'dynamodb',
  push: {
    apns: {
      signingKey: 'fanout/apns-signing-key',
      keyId: 'ABC123DEFG',
      teamId: 'TEAM123456',
      bundleId: 'com.example.app',
    },
    fcm: { serviceAccount: 'fanout/fcm-service-account' },
  },
};

/**
 * Synthesises one `FanoutStack` (bundling every function with esbuild: seconds each). Build it once
 * per test file, in `beforeAll`.
 */
export function synthStack(
  props: FanoutStackProps = FULL_PROPS,
  id = 'FanoutTest',
): {
  app: App;
  stack: FanoutStack;
  template: Template;
} {
  const app = new App({ outdir: undefined });
  const stack = new FanoutStack(app, id, props);
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * A stack for one construct's tests, checked by cdk-nag at synthesis, with the stand-ins most
 * constructs take: a VPC (public, private-with-egress and isolated `app` subnets, flow log) and a
 * rotating KMS key.
 */
export function checkedStack(id: string): { app: App; stack: Stack; vpc: ec2.Vpc; key: kms.Key } {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, id, { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'app', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  vpc.addFlowLog('FlowLog');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  return { app, stack, vpc, key };
}
