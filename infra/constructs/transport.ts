import {
  Aws,
  type CfnElement,
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { FanoutFunction } from './fanout-function.ts';
import { secretId, secretRef } from './secret-ref.ts';

/** SNS's platform names for APNs: production, or the development (sandbox) gateway. */
export const ApnsPlatform = { Production: 'APNS', Sandbox: 'APNS_SANDBOX' } as const;
export type ApnsPlatform = (typeof ApnsPlatform)[keyof typeof ApnsPlatform];

/** Where SES publishes bounce, complaint, reject and delivery-delay events. */
export const EmailFeedback = { CloudWatch: 'cloudwatch', Sns: 'sns' } as const;
export type EmailFeedback = (typeof EmailFeedback)[keyof typeof EmailFeedback];

/** The CloudFormation type of the platform application custom resource. */
export const PLATFORM_APPLICATION_RESOURCE_TYPE = 'Custom::SnsPlatformApplication';

/** APNs with token authentication (a `.p8` signing key): what SNS needs to push to iOS devices. */
export interface ApnsApplicationProps {
  /**
   * The secret holding the `.p8` signing key as text (the whole PEM file, `BEGIN PRIVATE KEY`
   * lines included): a secret, or its name, or its complete ARN. Read by the custom resource at
   * deployment; never in the template.
   */
  readonly signingKey: secretsmanager.ISecret | string;
  /** The signing key's id (10 characters, shown with the key in the Apple developer account). */
  readonly keyId: string;
  /** The Apple developer team id. */
  readonly teamId: string;
  /** The app's bundle id (the APNs topic). */
  readonly bundleId: string;
  /**
   * Production APNs, or the sandbox gateway that development builds of the app register with.
   * @default ApnsPlatform.Production ('APNS')
   */
  readonly platform?: ApnsPlatform;
  /**
   * Name of the SNS platform application. Changing it (or `platform`) makes a new application;
   * every device then gets a new SNS endpoint on its next push.
   * @default `<stack name>-apns`
   */
  readonly applicationName?: string;
}

/** FCM HTTP v1: what SNS needs to push to Android devices. */
export interface FcmApplicationProps {
  /**
   * The secret holding the Firebase service account's JSON key file, as is: a secret, or its name,
   * or its complete ARN. Read by the custom resource at deployment; never in the template.
   */
  readonly serviceAccount: secretsmanager.ISecret | string;
  /**
   * Name of the SNS platform application.
   * @default `<stack name>-fcm`
   */
  readonly applicationName?: string;
}

export interface FanoutTransportProps {
  /**
   * The APNs platform application.
   * @default none: iOS devices get no push (`FANOUT_SNS_APNS_ARN` stays unset)
   */
  readonly apns?: ApnsApplicationProps;
  /**
   * The FCM platform application.
   * @default none: Android devices get no push (`FANOUT_SNS_FCM_ARN` stays unset)
   */
  readonly fcm?: FcmApplicationProps;
  /**
   * Change it (any new value) to make the platform applications re-read their secrets: a rotated
   * `.p8` key or service account is otherwise not seen, since the template did not change.
   * @default '1'
   */
  readonly credentialsRevision?: string;
  /**
   * Domain SES sends from, verified with Easy DKIM (2048-bit keys).
   * @default no SES identity: the sender address must be verified outside this stack
   */
  readonly emailDomain?: string;
  /**
   * Public hosted zone of `emailDomain`, where the DKIM CNAME records are written.
   * @default none: the three DKIM CNAMEs (`dkimRecords`) are published by hand
   */
  readonly hostedZone?: route53.IPublicHostedZone;
  /**
   * Where SES sends bounces, complaints, rejects and delivery delays: CloudWatch metrics
   * (namespace `AWS/SES`, dimension `ses:configuration-set`), or also a new SNS topic
   * (`feedbackTopic`) for a process that acts on each of them.
   * @default EmailFeedback.CloudWatch
   */
  readonly emailFeedback?: EmailFeedback;
  /**
   * Key of the feedback topic (with `emailFeedback: 'sns'`); its policy must let
   * `ses.amazonaws.com` use it.
   * @default a new key with rotation, which SES of this account may use
   */
  readonly feedbackTopicKey?: kms.IKey;
  /**
   * Name of the SES configuration set.
   * @default a name CloudFormation generates
   */
  readonly configurationSetName?: string;
  /**
   * What happens to the platform applications (and the devices' endpoints in them) and to the
   * feedback topic's key when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The delivery transports of the AWS mode: SNS platform applications for mobile push (APNs with
 * token authentication, FCM HTTP v1) and SES for email (a DKIM-verified domain identity and a
 * configuration set with reputation metrics and a bounce/complaint event destination).
 *
 * CloudFormation has no resource type for SNS platform applications: each is a custom resource
 * (`Custom::SnsPlatformApplication`) whose handler (`src/lambda/platform-application.ts`) reads the
 * credential from Secrets Manager at deployment and calls SNS. The template carries secret names
 * only. The handler's role is made here, because nothing else uses it: GetSecretValue on the two
 * secrets, and the three platform-application actions of SNS.
 *
 * The push and email consumers' permissions (sns:Publish and endpoint calls, ses:SendEmail on the
 * identity and the configuration set) are granted by the stack (`infra/grants.ts`).
 */
export class FanoutTransport extends Construct {
  /** ARN of the APNs platform application (`FANOUT_SNS_APNS_ARN`), when `apns` is set. */
  readonly apnsApplicationArn?: string;
  /** ARN of the FCM platform application (`FANOUT_SNS_FCM_ARN`), when `fcm` is set. */
  readonly fcmApplicationArn?: string;
  /** The custom resource's handler, when a platform application is configured. */
  readonly platformApplicationFunction?: FanoutFunction;
  /** The SES domain identity, when `emailDomain` is set. */
  readonly emailIdentity?: ses.EmailIdentity;
  /** The identity's name (the domain, as given), when `emailDomain` is set. */
  readonly emailIdentityName?: string;
  /** The configuration set every email is sent with (`FANOUT_SES_CONFIGURATION_SET`). */
  readonly configurationSet: ses.ConfigurationSet;
  readonly configurationSetName: string;
  /** `arn:…:ses:<region>:<account>:configuration-set/<name>`: SendEmail needs it besides the identity. */
  readonly configurationSetArn: string;
  /** The topic of bounces and complaints, with `emailFeedback: 'sns'`. */
  readonly feedbackTopic?: sns.Topic;

  constructor(scope: Construct, id: string, props: FanoutTransportProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const stackName = Stack.of(this).stackName;

    if (props.apns !== undefined || props.fcm !== undefined) {
      const handler = new FanoutFunction(this, 'PlatformApplicationHandler', {
        entry: 'platform-application',
        timeout: Duration.minutes(1),
        memorySize: 256,
      });
      this.platformApplicationFunction = handler;
      const provider = this.#provider(handler);
      const apnsKey =
        props.apns === undefined ? undefined : secretRef(this, 'ApnsSigningKey', props.apns.signingKey);
      const fcmAccount =
        props.fcm === undefined ? undefined : secretRef(this, 'FcmServiceAccount', props.fcm.serviceAccount);
      const secrets = [apnsKey, fcmAccount].filter((s): s is secretsmanager.ISecret => s !== undefined);
      this.#allowHandler(handler, secrets);
      const revision = props.credentialsRevision ?? '1';
      const application = (name: string, properties: Record<string, string>): string => {
        const resource = new CustomResource(this, name, {
          serviceToken: provider.serviceToken,
          resourceType: PLATFORM_APPLICATION_RESOURCE_TYPE,
          properties: { ...properties, CredentialsRevision: revision },
          removalPolicy,
        });
        return resource.getAttString('PlatformApplicationArn');
      };
      if (props.apns !== undefined && apnsKey !== undefined) {
        this.apnsApplicationArn = application('ApnsApplication', {
          Name: props.apns.applicationName ?? `${stackName}-apns`,
          Platform: props.apns.platform ?? ApnsPlatform.Production,
          CredentialSecretId: secretId(apnsKey),
          KeyId: props.apns.keyId,
          TeamId: props.apns.teamId,
          BundleId: props.apns.bundleId,
        });
      }
      if (props.fcm !== undefined && fcmAccount !== undefined) {
        this.fcmApplicationArn = application('FcmApplication', {
          Name: props.fcm.applicationName ?? `${stackName}-fcm`,
          Platform: 'GCM',
          CredentialSecretId: secretId(fcmAccount),
        });
      }
    }

    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      ...(props.configurationSetName === undefined
        ? {}
        : { configurationSetName: props.configurationSetName }),
      reputationMetrics: true,
      sendingEnabled: true,
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    this.configurationSetName = this.configurationSet.configurationSetName;
    this.configurationSetArn = Stack.of(this).formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSetName,
    });
    const feedbackEvents = [
      ses.EmailSendingEvent.SEND,
      ses.EmailSendingEvent.DELIVERY,
      ses.EmailSendingEvent.BOUNCE,
      ses.EmailSendingEvent.COMPLAINT,
      ses.EmailSendingEvent.REJECT,
      ses.EmailSendingEvent.DELIVERY_DELAY,
    ];
    this.configurationSet.addEventDestination('CloudWatch', {
      destination: ses.EventDestination.cloudWatchDimensions([
        {
          // An SES auto-tag: every email sent with the set carries it, so its value is the set's name.
          name: 'ses:configuration-set',
          source: ses.CloudWatchDimensionSource.MESSAGE_TAG,
          defaultValue: this.configurationSetName,
        },
      ]),
      events: feedbackEvents,
    });
    if ((props.emailFeedback ?? EmailFeedback.CloudWatch) === EmailFeedback.Sns) {
      const key = props.feedbackTopicKey ?? this.#feedbackKey(removalPolicy);
      this.feedbackTopic = new sns.Topic(this, 'FeedbackTopic', {
        displayName: 'Fanout email bounces and complaints',
        masterKey: key,
        enforceSSL: true,
      });
      this.configurationSet.addEventDestination('Feedback', {
        destination: ses.EventDestination.snsTopic(this.feedbackTopic),
        events: [
          ses.EmailSendingEvent.BOUNCE,
          ses.EmailSendingEvent.COMPLAINT,
          ses.EmailSendingEvent.REJECT,
          ses.EmailSendingEvent.DELIVERY_DELAY,
        ],
      });
    }

    if (props.emailDomain !== undefined) {
      this.emailIdentity = new ses.EmailIdentity(this, 'EmailIdentity', {
        identity:
          props.hostedZone === undefined
            ? ses.Identity.domain(props.emailDomain)
            : ses.Identity.publicHostedZone(props.hostedZone),
        configurationSet: this.configurationSet,
        dkimSigning: true,
        dkimIdentity: ses.DkimIdentity.easyDkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
        // Bounces and complaints reach the event destinations; no copies to the From address.
        feedbackForwarding: false,
      });
      this.emailIdentityName = props.emailDomain;
    }
  }

  /**
   * The CNAME records that verify the domain for DKIM (name → value), to publish in the domain's
   * DNS when no hosted zone was given.
   */
  get dkimRecords(): ses.DkimRecord[] {
    return this.emailIdentity?.dkimRecords ?? [];
  }

  /** The Provider framework in front of the handler, its logs kept a month. */
  #provider(handler: FanoutFunction): cr.Provider {
    const provider = new cr.Provider(this, 'PlatformApplicationProvider', {
      onEventHandler: handler.function,
      logGroup: new logs.LogGroup(this, 'PlatformApplicationProviderLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.RETAIN,
      }),
    });
    // cdk-nag 3 reads CDK's own acknowledgements, one per finding.
    const framework = Validations.of(provider);
    framework.acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "The CDK Provider framework's own function runs with AWSLambdaBasicExecutionRole; it only relays CloudFormation requests to the handler.",
    });
    framework.acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(handler.function.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'The Provider framework may invoke every version of the one handler function (`<arn>:*`).',
    });
    return provider;
  }

  /** The handler's own permissions: read the two secrets, manage platform applications. */
  #allowHandler(handler: FanoutFunction, secrets: readonly secretsmanager.ISecret[]): void {
    const role = handler.function.role!;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadPushCredentials',
        actions: ['secretsmanager:GetSecretValue'],
        resources: secrets.map(policyArn),
      }),
    );
    const keys = secrets.flatMap((s) => (s.encryptionKey === undefined ? [] : [s.encryptionKey.keyArn]));
    if (keys.length > 0) {
      // A secret under a customer-managed key: decrypted through Secrets Manager only.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DecryptPushCredentials',
          actions: ['kms:Decrypt'],
          resources: keys,
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
        }),
      );
    }
    // SNS authorizes the platform-application actions on no resource type: Resource must be `*`.
    // The region condition keeps the role to this stack's region.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ManagePlatformApplications',
        actions: [
          'sns:CreatePlatformApplication',
          'sns:SetPlatformApplicationAttributes',
          'sns:DeletePlatformApplication',
        ],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:RequestedRegion': Aws.REGION } },
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'sns:CreatePlatformApplication, SetPlatformApplicationAttributes and DeletePlatformApplication support no resource-level permissions (Service Authorization Reference); limited to the stack region by aws:RequestedRegion.',
    });
  }

  /** A key SES may publish to the feedback topic with (SES of this account, this region). */
  #feedbackKey(removalPolicy: RemovalPolicy): kms.Key {
    const key = new kms.Key(this, 'FeedbackTopicKey', {
      description: 'Fanout SES feedback topic',
      enableKeyRotation: true,
      removalPolicy,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesToPublishToTheFeedbackTopic',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    return key;
  }
}

/**
 * The secret's ARN for a policy: a secret known by name only has an ARN without the six random
 * characters Secrets Manager appends, which `-??????` stands for.
 */
function policyArn(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}
