import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FanoutFunction } from './fanout-function.ts';

/** Static files of the notification center and the API description: served without credentials. */
export const PUBLIC_PATHS = [
  '/',
  '/app.js',
  '/preferences.js',
  '/styles.css',
  '/sse.js',
  '/web-push.js',
  '/sw.js',
  '/fanout-inbox.js',
  '/inbox-api.js',
  '/inbox-view.js',
  '/inbox-styles.js',
  '/inbox-list.js',
  '/inbox-template.js',
  '/ops',
  '/ops.js',
  '/openapi.json',
  '/docs',
  '/docs/{proxy+}',
] as const;

/**
 * The email unsubscribe link (RFC 8058 one-click): its signed token is the credential, so no
 * authorizer runs. GET only shows a page; POST turns email off; HEAD is what some link checkers send.
 */
export const UNSUBSCRIBE_PATH = '/v1/unsubscribe';

/** The fields of one access-log line (HTTP API context variables), as JSON. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  // The route, not the path: a device route's path carries the push token, personal data, and an
  // unsubscribe link's query string its token. Neither path nor query string is logged.
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  tenantId: '$context.authorizer.tenantId',
  userAgent: '$context.identity.userAgent',
} as const;

export interface FanoutIngestProps {
  /**
   * Provisioned shards of the event stream; unset means on-demand capacity.
   * @default on-demand
   */
  readonly shardCount?: number;
  /**
   * How long the stream keeps records (the fan-out worker must catch up within it).
   * @default Duration.hours(24)
   */
  readonly streamRetention?: Duration;
  /**
   * Customer-managed key of the stream's server-side encryption. Without it the stream is
   * encrypted with the AWS-managed `aws/kinesis` key, which needs no KMS grant to producers or
   * consumers (and is what cdk-nag's AwsSolutions-KDS3 asks for).
   * @default the AWS-managed key `aws/kinesis`
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Environment of the event API and inbox API functions (docs/lambda.md);
   * `FANOUT_EVENT_STREAM` is added here.
   * @default none
   */
  readonly apiEnvironment?: Readonly<Record<string, string>>;
  /**
   * Environment of the authorizer: `FANOUT_TABLE_PREFIX` (or `FANOUT_TABLE_TENANTS`) and
   * `FANOUT_TOKEN_SECRET`.
   * @default none
   */
  readonly authorizerEnvironment?: Readonly<Record<string, string>>;
  /**
   * VPC of the API functions (they reach Redis).
   * @default not in a VPC
   */
  readonly vpc?: ec2.IVpc;
  /** @default the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default a new security group when `vpc` is set */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Steady-state requests per second of the default stage (all routes together).
   * @default 1000
   */
  readonly throttleRateLimit?: number;
  /**
   * Burst of the default stage.
   * @default 2000
   */
  readonly throttleBurstLimit?: number;
  /**
   * How long API Gateway keeps an authorizer answer per Authorization header.
   * @default Duration.minutes(5)
   */
  readonly authorizerCacheTtl?: Duration;
  /**
   * Serve the notification center's static pages and `/openapi.json` without credentials
   * (they contain no data; every data route stays behind the authorizer).
   * @default true
   */
  readonly publicPages?: boolean;
  /**
   * What happens to the stream and the access logs when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The way in: the Kinesis event stream (KMS server-side encryption), and one HTTP API
 * whose server-to-server routes (`/v1/*`) go to the event API function and whose end-user routes
 * (`/v1/me/*`) go to the inbox API function, both behind one Lambda REQUEST authorizer, with JSON
 * access logs and default-stage throttling. The unsubscribe link (`/v1/unsubscribe`) also goes to
 * the inbox API function, without the authorizer: its signed token is its credential.
 */
export class FanoutIngest extends Construct {
  readonly stream: kinesis.IStream;
  readonly eventApi: lambda.Function;
  readonly inboxApi: lambda.Function;
  readonly authorizer: lambda.Function;
  readonly api: apigw.IHttpApi;
  readonly stage: apigw.IHttpStage;
  readonly accessLogs: logs.ILogGroup;
  /** The API's URL (the default stage). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: FanoutIngestProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    const stream = new kinesis.Stream(this, 'EventStream', {
      ...(props.shardCount === undefined
        ? { streamMode: kinesis.StreamMode.ON_DEMAND }
        : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: props.shardCount }),
      ...(props.encryptionKey === undefined
        ? { encryption: kinesis.StreamEncryption.MANAGED }
        : { encryption: kinesis.StreamEncryption.KMS, encryptionKey: props.encryptionKey }),
      retentionPeriod: props.streamRetention ?? Duration.hours(24),
      removalPolicy,
    });
    this.stream = stream;

    const network = {
      ...(props.vpc === undefined ? {} : { vpc: props.vpc }),
      ...(props.vpcSubnets === undefined ? {} : { vpcSubnets: props.vpcSubnets }),
      ...(props.securityGroups === undefined ? {} : { securityGroups: props.securityGroups }),
    };
    const environment = { ...props.apiEnvironment, FANOUT_EVENT_STREAM: stream.streamName };
    this.eventApi = new FanoutFunction(this, 'EventApi', {
      entry: 'event-api',
      environment,
      ...network,
    }).function;
    this.inboxApi = new FanoutFunction(this, 'InboxApi', {
      entry: 'inbox-api',
      environment,
      ...network,
    }).function;
    this.authorizer = new FanoutFunction(this, 'Authorizer', {
      entry: 'authorizer',
      environment: { ...props.authorizerEnvironment },
      timeout: Duration.seconds(10),
      memorySize: 512,
    }).function;

    const authorizer = new HttpLambdaAuthorizer('ApiAuthorizer', this.authorizer, {
      authorizerName: 'fanout-credentials',
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: props.authorizerCacheTtl ?? Duration.minutes(5),
    });

    const api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Fanout API: events, follows, devices, preferences (API keys) and inboxes (user tokens)',
      createDefaultStage: false,
    });
    this.api = api;
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttleRateLimit ?? 1000,
        burstLimit: props.throttleBurstLimit ?? 2000,
      },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    this.url = this.stage.url;

    const events = new HttpLambdaIntegration('EventApiIntegration', this.eventApi);
    const inbox = new HttpLambdaIntegration('InboxApiIntegration', this.inboxApi);
    api.addRoutes({ path: '/v1/{proxy+}', methods: [apigw.HttpMethod.ANY], integration: events, authorizer });
    api.addRoutes({
      path: '/v1/me/{proxy+}',
      methods: [apigw.HttpMethod.ANY],
      integration: inbox,
      authorizer,
    });
    // Browsers on other origins (the embedded inbox element) preflight the end-user routes without
    // credentials. The API's own CORS settings (`corsPreflight`) would answer for every route, the
    // tenant's API-key routes too; this route sends only /v1/me/* preflights, unauthorized, to the
    // inbox function, which answers them as `fanout serve` does (FANOUT_CORS_ORIGINS).
    const [preflight] = api.addRoutes({
      path: '/v1/me/{proxy+}',
      methods: [apigw.HttpMethod.OPTIONS],
      integration: inbox,
    });
    if (preflight !== undefined) {
      Validations.of(preflight).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'CORS preflight of the end-user routes: browsers send it without credentials; it answers only which origins, methods and headers are allowed and reads no data.',
      });
    }
    const unsubscribe = api.addRoutes({
      path: UNSUBSCRIBE_PATH,
      methods: [apigw.HttpMethod.GET, apigw.HttpMethod.HEAD, apigw.HttpMethod.POST],
      integration: inbox,
    });
    for (const route of unsubscribe) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Email unsubscribe link (RFC 8058): mailbox providers and browsers send no Authorization header; the HMAC-signed token in the link is the credential and opts one user out of email only.',
      });
    }
    if (props.publicPages ?? true) {
      for (const path of PUBLIC_PATHS) {
        const [route] = api.addRoutes({ path, methods: [apigw.HttpMethod.GET], integration: inbox });
        if (route !== undefined) {
          Validations.of(route).acknowledge({
            id: 'AwsSolutions-APIG4',
            reason:
              'Static pages of the notification center and the OpenAPI document: no tenant data, and a browser cannot send the Authorization header on a page load. Every /v1 route is behind the authorizer.',
          });
        }
      }
    }
  }
}
