import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Properties of {@link FanoutNetwork}. */
export interface FanoutNetworkProps {
  /** The VPC's IPv4 range. @default '10.0.0.0/16' */
  readonly cidr?: string;
  /** Availability zones of the subnets (the caches' Multi-AZ needs two). @default 2 */
  readonly maxAzs?: number;
  /**
   * NAT gateways, for functions that must reach the internet (direct APNs / FCM, a third-party
   * SMTP). With 0 there is no public subnet, no internet gateway and no route out of the VPC: every
   * AWS service the functions call is reached through a VPC endpoint. With n > 0 the functions
   * run in private subnets with egress through n NAT gateways; the caches stay isolated.
   * @default 0
   */
  readonly natGateways?: number;
  /**
   * Which functions the NAT gateways serve. `all`: the `app` subnets get the route out. `selected`:
   * the `app` subnets stay isolated and a separate `egress` subnet group ({@link egressSubnets})
   * gets it, so only the functions placed there (the push consumer, with direct push) can reach
   * the internet. Ignored without NAT gateways.
   * @default 'all'
   */
  readonly egress?: 'all' | 'selected';
  /** Retention of the VPC flow logs. @default one year */
  readonly flowLogRetention?: logs.RetentionDays;
  /** Traffic the flow logs record. @default ec2.FlowLogTrafficType.ALL */
  readonly flowLogTrafficType?: ec2.FlowLogTrafficType;
  /**
   * Also create an interface endpoint for X-Ray, so active tracing of VPC functions can ship
   * segments without NAT.
   * @default true
   */
  readonly xrayEndpoint?: boolean;
  /** Removal policy of the flow-log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** Port of Redis / Valkey on ElastiCache and MemoryDB. */
export const REDIS_PORT = 6379;

/**
 * The VPC of the AWS mode: two AZs, the Lambda functions and the caches in private subnets, no
 * NAT by default.
 *
 * - **Subnets.** `data` (isolated, always) for ElastiCache and MemoryDB; `app` for the functions,
 *   isolated when `natGateways` is 0, private-with-egress otherwise (plus `public` subnets for the
 *   NAT gateways), unless `egress: 'selected'` keeps `app` isolated and gives the route out to an
 *   `egress` group of its own.
 * - **Endpoints.** Gateway endpoints for DynamoDB and S3 (free); interface endpoints, in the `app`
 *   subnets with private DNS, for SQS, SNS (mobile push), Kinesis Data Streams, Firehose, Secrets
 *   Manager, SES v2 (`email`: the API endpoint `SendEmail` uses, not `email-smtp`), CloudWatch Logs,
 *   KMS, STS and (by default) X-Ray. They share one security group that admits HTTPS from the
 *   Lambda security group only (`open: false`: not the whole VPC CIDR).
 * - **Security groups.** {@link lambdaSecurityGroup}: no ingress; egress TCP 443 (to the
 *   endpoints and the gateway-endpoint prefix lists: with no NAT there is no other route, and a
 *   prefix list id is not known to an environment-agnostic stack) and TCP 6379 to the cache
 *   group only. {@link cacheSecurityGroup}: ingress TCP 6379 from the Lambda group only, no egress.
 * - **Flow logs** of all traffic to a CloudWatch log group (retained).
 * - The VPC's default security group is stripped of its rules (`restrictDefaultSecurityGroup`).
 */
export class FanoutNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  /** Subnets of the Lambda functions (and of the interface endpoints). */
  readonly lambdaSubnets: ec2.SubnetSelection;
  /**
   * Subnets with a route out through the NAT gateways, for the functions that must reach the
   * internet: `egress` with `egress: 'selected'`, else the same as {@link lambdaSubnets}.
   */
  readonly egressSubnets: ec2.SubnetSelection;
  /** Isolated subnets of the caches (ElastiCache, MemoryDB). */
  readonly cacheSubnets: ec2.SubnetSelection;
  /** Attach to every function in the VPC. */
  readonly lambdaSecurityGroup: ec2.ISecurityGroup;
  /** Attach to ElastiCache and MemoryDB: admits 6379 from {@link lambdaSecurityGroup} only. */
  readonly cacheSecurityGroup: ec2.ISecurityGroup;
  /** Shared by the interface endpoints: admits 443 from {@link lambdaSecurityGroup} only. */
  readonly endpointSecurityGroup: ec2.ISecurityGroup;
  /** The interface endpoints, by service (`sqs`, `sns`, `kinesis-streams`, …). */
  readonly interfaceEndpoints: Readonly<Record<string, ec2.IInterfaceVpcEndpoint>>;
  readonly flowLogGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: FanoutNetworkProps = {}) {
    super(scope, id);
    const natGateways = props.natGateways ?? 0;
    if (!Number.isInteger(natGateways) || natGateways < 0) {
      throw new Error(`natGateways must be a non-negative integer, got ${natGateways}`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const selected = natGateways > 0 && props.egress === 'selected';
    const appSubnetType =
      natGateways > 0 && !selected ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;

    const subnetConfiguration: ec2.SubnetConfiguration[] = [
      ...(natGateways > 0 ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }] : []),
      { name: 'app', subnetType: appSubnetType, cidrMask: 20 },
      ...(selected ? [{ name: 'egress', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 }] : []),
      { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ];
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.0.0.0/16'),
      maxAzs: props.maxAzs ?? 2,
      natGateways,
      subnetConfiguration,
      createInternetGateway: natGateways > 0,
      restrictDefaultSecurityGroup: true,
    });
    this.vpc = vpc;
    this.lambdaSubnets = { subnetGroupName: 'app' };
    this.egressSubnets = selected ? { subnetGroupName: 'egress' } : this.lambdaSubnets;
    this.cacheSubnets = { subnetGroupName: 'data' };

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: props.flowLogTrafficType ?? ec2.FlowLogTrafficType.ALL,
    });
    this.flowLogGroup = flowLogGroup;

    const lambdaSg = new ec2.SecurityGroup(this, 'LambdaSecurityGroup', {
      vpc,
      description: 'Fanout Lambda functions: HTTPS to AWS endpoints, Redis to the caches',
      allowAllOutbound: false,
    });
    const cacheSg = new ec2.SecurityGroup(this, 'CacheSecurityGroup', {
      vpc,
      description: 'Fanout caches (ElastiCache, MemoryDB): Redis from the Lambda functions only',
      allowAllOutbound: false,
    });
    const endpointSg = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc,
      description: 'Fanout interface VPC endpoints: HTTPS from the Lambda functions only',
      allowAllOutbound: false,
    });
    lambdaSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to VPC endpoints and AWS APIs');
    lambdaSg.connections.allowTo(cacheSg, ec2.Port.tcp(REDIS_PORT), 'Redis (TLS) to the caches');
    endpointSg.connections.allowFrom(lambdaSg, ec2.Port.tcp(443), 'HTTPS from the Lambda functions');
    this.lambdaSecurityGroup = lambdaSg;
    this.cacheSecurityGroup = cacheSg;
    this.endpointSecurityGroup = endpointSg;

    // Every subnet a function runs in reaches DynamoDB and S3 through the gateway endpoints.
    const functionSubnets = selected ? [this.lambdaSubnets, this.egressSubnets] : [this.lambdaSubnets];
    vpc.addGatewayEndpoint('DynamoDbEndpoint', {
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: functionSubnets,
    });
    vpc.addGatewayEndpoint('S3Endpoint', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: functionSubnets,
    });

    const services: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
      Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
      KinesisStreams: ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS,
      Firehose: ec2.InterfaceVpcEndpointAwsService.KINESIS_FIREHOSE,
      SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      // SES v2 API (SendEmail); EMAIL_SMTP is the SMTP interface, which the adapter does not use.
      Email: ec2.InterfaceVpcEndpointAwsService.EMAIL,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      Sts: ec2.InterfaceVpcEndpointAwsService.STS,
      ...(props.xrayEndpoint === false ? {} : { XRay: ec2.InterfaceVpcEndpointAwsService.XRAY }),
    };
    const endpoints: Record<string, ec2.IInterfaceVpcEndpoint> = {};
    for (const [name, service] of Object.entries(services)) {
      endpoints[service.shortName] = vpc.addInterfaceEndpoint(`${name}Endpoint`, {
        service,
        subnets: this.lambdaSubnets,
        securityGroups: [endpointSg],
        open: false,
        privateDnsEnabled: true,
      });
    }
    this.interfaceEndpoints = endpoints;
  }
}
