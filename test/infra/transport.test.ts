import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FanoutTransport, PLATFORM_APPLICATION_RESOURCE_TYPE } from '../../infra/constructs/transport.ts';

// One stack for the file (the custom resource handler is bundled by esbuild, once per transport):
// a transport with every prop set and one with the defaults, side by side, each asserted on its
// own resources by logical id. The app runs the AWS Solutions checks (cdk-nag) at synthesis.
let stack: Stack;
let template: Template;
let full: FanoutTransport;
let defaults: FanoutTransport;
let byArn: FanoutTransport;
let validationReport: { pluginReports: unknown[] };

const SECRET_KEY_ARN = 'arn:aws:kms:eu-west-1:111111111111:key/0b1c2d3e-0000-4000-8000-000000000001';
const FCM_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:fanout/fcm-AbCdEf';

beforeAll(() => {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  stack = new Stack(app, 'TransportTest', { env: { account: '111111111111', region: 'eu-west-1' } });
  full = new FanoutTransport(stack, 'Full', {
    apns: {
      signingKey: secretsmanager.Secret.fromSecretNameV2(stack, 'ApnsKey', 'fanout/apns-key'),
      keyId: 'ABC123DEFG',
      teamId: 'TEAM123456',
      bundleId: 'com.example.fanout',
      platform: 'APNS_SANDBOX',
      applicationName: 'fanout-ios-dev',
    },
    fcm: {
      serviceAccount: secretsmanager.Secret.fromSecretAttributes(stack, 'FcmAccount', {
        secretCompleteArn: FCM_SECRET_ARN,
        encryptionKey: kms.Key.fromKeyArn(stack, 'SecretKey', SECRET_KEY_ARN),
      }),
      applicationName: 'fanout-android',
    },
    credentialsRevision: '7',
    emailDomain: 'mail.example.com',
    hostedZone: route53.PublicHostedZone.fromPublicHostedZoneAttributes(stack, 'Zone', {
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'mail.example.com',
    }),
    emailFeedback: 'sns',
    configurationSetName: 'fanout-email',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  byArn = new FanoutTransport(stack, 'ByArn', {
    fcm: { serviceAccount: FCM_SECRET_ARN },
    emailFeedback: 'cloudwatch',
  });
  defaults = new FanoutTransport(stack, 'Defaults', {
    apns: {
      signingKey: 'fanout/apns-prod',
      keyId: 'PROD123456',
      teamId: 'TEAM123456',
      bundleId: 'com.example.fanout',
    },
    emailDomain: 'example.org',
  });
  const assembly = app.synth();
  validationReport = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
  template = Template.fromStack(stack);
});

function id(construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The logical id of a construct's child, by path under the construct. */
function childId(construct: IConstruct, path: string): string {
  return id(path.split('/').reduce((c, part) => c.node.findChild(part), construct));
}

/** The resource with this logical id matches `props` (Match.objectLike at the top level). */
function expectResource(type: string, logicalId: string, props: Record<string, unknown>): void {
  const found = template.findResources(type, props);
  expect(Object.keys(found), `${type} ${logicalId}`).toContain(logicalId);
}

/** The statements of the default policy of a FanoutFunction's role. */
function handlerStatements(transport: FanoutTransport): unknown[] {
  const roleId = id(transport.platformApplicationFunction!.function.role!);
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleId }] },
  });
  const [policy] = Object.values(policies) as { Properties: { PolicyDocument: { Statement: unknown[] } } }[];
  return policy!.Properties.PolicyDocument.Statement;
}

describe('FanoutTransport platform applications', () => {
  it('makes one custom resource per configured platform and nothing for an absent one', () => {
    template.resourceCountIs(PLATFORM_APPLICATION_RESOURCE_TYPE, 4);
  });

  it('declares the APNs sandbox application with token-auth ids and the secret name only', () => {
    const resource = template.toJSON().Resources[childId(full, 'ApnsApplication')];
    expect(resource).toEqual({
      Type: PLATFORM_APPLICATION_RESOURCE_TYPE,
      Properties: {
        ServiceToken: {
          'Fn::GetAtt': [childId(full, 'PlatformApplicationProvider/framework-onEvent'), 'Arn'],
        },
        Name: 'fanout-ios-dev',
        Platform: 'APNS_SANDBOX',
        CredentialSecretId: 'fanout/apns-key',
        KeyId: 'ABC123DEFG',
        TeamId: 'TEAM123456',
        BundleId: 'com.example.fanout',
        CredentialsRevision: '7',
      },
      UpdateReplacePolicy: 'Delete',
      DeletionPolicy: 'Delete',
    });
  });

  it('declares the FCM application by the secret ARN, no credential in the template', () => {
    const resource = template.toJSON().Resources[childId(full, 'FcmApplication')];
    expect(resource).toEqual({
      Type: PLATFORM_APPLICATION_RESOURCE_TYPE,
      Properties: {
        ServiceToken: {
          'Fn::GetAtt': [childId(full, 'PlatformApplicationProvider/framework-onEvent'), 'Arn'],
        },
        Name: 'fanout-android',
        Platform: 'GCM',
        CredentialSecretId: FCM_SECRET_ARN,
        CredentialsRevision: '7',
      },
      UpdateReplacePolicy: 'Delete',
      DeletionPolicy: 'Delete',
    });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/PRIVATE KEY|private_key|service_account/);
  });

  it('defaults to production APNs named after the stack, retained on removal', () => {
    const resource = template.toJSON().Resources[childId(defaults, 'ApnsApplication')];
    expect(resource).toEqual({
      Type: PLATFORM_APPLICATION_RESOURCE_TYPE,
      Properties: {
        ServiceToken: {
          'Fn::GetAtt': [childId(defaults, 'PlatformApplicationProvider/framework-onEvent'), 'Arn'],
        },
        Name: 'TransportTest-apns',
        Platform: 'APNS',
        CredentialSecretId: 'fanout/apns-prod',
        KeyId: 'PROD123456',
        TeamId: 'TEAM123456',
        BundleId: 'com.example.fanout',
        CredentialsRevision: '1',
      },
      UpdateReplacePolicy: 'Retain',
      DeletionPolicy: 'Retain',
    });
  });

  it('takes a secret by name or by complete ARN as well as an ISecret', () => {
    expect(template.toJSON().Resources[childId(byArn, 'FcmApplication')].Properties).toMatchObject({
      Name: 'TransportTest-fcm',
      Platform: 'GCM',
      CredentialSecretId: FCM_SECRET_ARN,
    });
    expect(handlerStatements(byArn)).toContainEqual({
      Sid: 'ReadPushCredentials',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: FCM_SECRET_ARN,
    });
    expect(handlerStatements(defaults)).toContainEqual({
      Sid: 'ReadPushCredentials',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':secretsmanager:eu-west-1:111111111111:secret:fanout/apns-prod-??????',
          ],
        ],
      },
    });
    expect(byArn.apnsApplicationArn).toBeUndefined();
    expect(byArn.emailIdentity).toBeUndefined();
    expect(byArn.emailIdentityName).toBeUndefined();
    expect(byArn.dkimRecords).toEqual([]);
  });

  it('exposes the application ARNs as the custom resources attribute', () => {
    expect(stack.resolve(full.apnsApplicationArn)).toEqual({
      'Fn::GetAtt': [childId(full, 'ApnsApplication'), 'PlatformApplicationArn'],
    });
    expect(stack.resolve(full.fcmApplicationArn)).toEqual({
      'Fn::GetAtt': [childId(full, 'FcmApplication'), 'PlatformApplicationArn'],
    });
    expect(defaults.fcmApplicationArn).toBeUndefined();
  });

  it('runs the handler as a Node 24 ARM function of the platform-application entry', () => {
    expectResource('AWS::Lambda::Function', id(full.platformApplicationFunction!.function), {
      Properties: Match.objectLike({
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 60,
        TracingConfig: { Mode: 'Active' },
        Environment: {
          Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'fanout-platform-application' }),
        },
      }),
    });
  });

  it('lets the handler read only its secrets, decrypt them only through Secrets Manager', () => {
    const statements = handlerStatements(full);
    expect(statements).toContainEqual({
      Sid: 'ReadPushCredentials',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:eu-west-1:111111111111:secret:fanout/apns-key-??????',
            ],
          ],
        },
        FCM_SECRET_ARN,
      ],
    });
    expect(statements).toContainEqual({
      Sid: 'DecryptPushCredentials',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: SECRET_KEY_ARN,
      Condition: {
        StringEquals: {
          'kms:ViaService': {
            'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
          },
        },
      },
    });
    expect(handlerStatements(defaults)).not.toContainEqual(
      expect.objectContaining({ Sid: 'DecryptPushCredentials' }),
    );
  });

  it('lets the handler manage platform applications in the stack region, nothing else of SNS', () => {
    const manage = {
      Sid: 'ManagePlatformApplications',
      Effect: 'Allow',
      Action: [
        'sns:CreatePlatformApplication',
        'sns:SetPlatformApplicationAttributes',
        'sns:DeletePlatformApplication',
      ],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } },
    };
    for (const transport of [full, defaults]) {
      const statements = handlerStatements(transport);
      expect(statements).toContainEqual(manage);
      const actions = statements.flatMap((s) => [(s as { Action: string | string[] }).Action].flat());
      expect(actions.filter((a) => a.startsWith('sns:')).sort()).toEqual([...manage.Action].sort());
    }
  });

  it('fronts the handler with a Provider whose logs are kept a month', () => {
    const onEvent = childId(full, 'PlatformApplicationProvider/framework-onEvent');
    const logs = childId(full, 'PlatformApplicationProviderLogs');
    expectResource('AWS::Logs::LogGroup', logs, {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expectResource('AWS::Lambda::Function', onEvent, {
      Properties: Match.objectLike({
        LoggingConfig: Match.objectLike({ LogGroup: { Ref: logs } }),
        Environment: {
          Variables: {
            USER_ON_EVENT_FUNCTION_ARN: {
              'Fn::GetAtt': [id(full.platformApplicationFunction!.function), 'Arn'],
            },
          },
        },
      }),
    });
  });

  it('passes the AWS Solutions checks, with the Provider framework findings acknowledged', () => {
    expect(validationReport.pluginReports).toEqual([]);
  });
});

describe('FanoutTransport SES', () => {
  it('makes a configuration set with reputation metrics, TLS required, bounces and complaints suppressed', () => {
    expectResource('AWS::SES::ConfigurationSet', id(full.configurationSet), {
      Properties: {
        Name: 'fanout-email',
        ReputationOptions: { ReputationMetricsEnabled: true },
        SendingOptions: { SendingEnabled: true },
        DeliveryOptions: { TlsPolicy: 'REQUIRE' },
        SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
      },
    });
    expectResource('AWS::SES::ConfigurationSet', id(defaults.configurationSet), {
      Properties: {
        ReputationOptions: { ReputationMetricsEnabled: true },
        SendingOptions: { SendingEnabled: true },
        DeliveryOptions: { TlsPolicy: 'REQUIRE' },
        SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
      },
    });
    expect(template.toJSON().Resources[id(defaults.configurationSet)].Properties.Name).toBeUndefined();
  });

  it('publishes sending, delivery, bounce and complaint counts to CloudWatch per configuration set', () => {
    for (const transport of [full, defaults]) {
      const set = id(transport.configurationSet);
      expectResource(
        'AWS::SES::ConfigurationSetEventDestination',
        childId(transport, 'ConfigurationSet/CloudWatch'),
        {
          Properties: {
            ConfigurationSetName: { Ref: set },
            EventDestination: {
              Enabled: true,
              MatchingEventTypes: ['send', 'delivery', 'bounce', 'complaint', 'reject', 'deliveryDelay'],
              CloudWatchDestination: {
                DimensionConfigurations: [
                  {
                    DimensionName: 'ses:configuration-set',
                    DimensionValueSource: 'messageTag',
                    DefaultDimensionValue: { Ref: set },
                  },
                ],
              },
            },
          },
        },
      );
    }
  });

  it('sends bounces and complaints to an encrypted, TLS-only topic when asked', () => {
    const topic = id(full.feedbackTopic!);
    const key = childId(full, 'FeedbackTopicKey');
    expectResource('AWS::SES::ConfigurationSetEventDestination', childId(full, 'ConfigurationSet/Feedback'), {
      Properties: {
        ConfigurationSetName: { Ref: id(full.configurationSet) },
        EventDestination: {
          Enabled: true,
          MatchingEventTypes: ['bounce', 'complaint', 'reject', 'deliveryDelay'],
          SnsDestination: { TopicARN: { Ref: topic } },
        },
      },
    });
    expectResource('AWS::SNS::Topic', topic, {
      Properties: {
        DisplayName: 'Fanout email bounces and complaints',
        KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'ses.amazonaws.com' },
            Condition: { StringEquals: Match.objectLike({ 'AWS:SourceAccount': '111111111111' }) },
          }),
        ]),
      },
    });
    expectResource('AWS::KMS::Key', key, {
      Properties: Match.objectLike({
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: Match.arrayWith([
            {
              Sid: 'AllowSesToPublishToTheFeedbackTopic',
              Effect: 'Allow',
              Principal: { Service: 'ses.amazonaws.com' },
              Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
              Resource: '*',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ]),
        },
      }),
      DeletionPolicy: 'Delete',
    });
    expect(defaults.feedbackTopic).toBeUndefined();
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SES::ConfigurationSetEventDestination', 4);
  });

  it('verifies the domain with 2048-bit Easy DKIM, sending through the configuration set', () => {
    for (const [transport, domain] of [
      [full, 'mail.example.com'],
      [defaults, 'example.org'],
    ] as const) {
      expectResource('AWS::SES::EmailIdentity', id(transport.emailIdentity!), {
        Properties: {
          EmailIdentity: domain,
          ConfigurationSetAttributes: { ConfigurationSetName: { Ref: id(transport.configurationSet) } },
          DkimAttributes: { SigningEnabled: true },
          DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
          FeedbackAttributes: { EmailForwardingEnabled: false },
        },
      });
      expect(transport.emailIdentityName).toBe(domain);
    }
  });

  it('writes the three DKIM CNAMEs into the hosted zone when one is given', () => {
    const identity = id(full.emailIdentity!);
    for (const n of [1, 2, 3]) {
      template.hasResourceProperties('AWS::Route53::RecordSet', {
        HostedZoneId: 'Z0123456789ABCDEFGHIJ',
        Type: 'CNAME',
        Name: { 'Fn::GetAtt': [identity, `DkimDNSTokenName${n}`] },
        ResourceRecords: [{ 'Fn::GetAtt': [identity, `DkimDNSTokenValue${n}`] }],
      });
    }
    template.resourceCountIs('AWS::Route53::RecordSet', 3);
    expect(defaults.dkimRecords).toHaveLength(3);
  });

  it('exposes the configuration set name and ARN', () => {
    expect(stack.resolve(full.configurationSetName)).toEqual({ Ref: id(full.configurationSet) });
    expect(stack.resolve(full.configurationSetArn)).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':ses:eu-west-1:111111111111:configuration-set/',
          { Ref: id(full.configurationSet) },
        ],
      ],
    });
  });
});
