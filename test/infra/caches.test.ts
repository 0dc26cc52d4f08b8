import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { FanoutCaches } from '../../infra/constructs/caches.ts';
import { FanoutNetwork } from '../../infra/constructs/network.ts';

// Arrange (shared): one stack per configuration, built once; no Lambda function, no bundling.
interface Built {
  readonly stack: Stack;
  readonly network: FanoutNetwork;
  readonly caches: FanoutCaches;
  readonly template: Template;
}

function build(id: string, opts: { natGateways?: number; mode?: 'serverless' | 'node-based' } = {}): Built {
  const stack = new Stack(new App(), id);
  const network = new FanoutNetwork(stack, 'Network', { natGateways: opts.natGateways ?? 0 });
  const caches = new FanoutCaches(stack, 'Caches', {
    vpc: network.vpc,
    subnets: network.cacheSubnets,
    securityGroup: network.cacheSecurityGroup,
    mode: opts.mode ?? 'serverless',
  });
  return { stack, network, caches, template: Template.fromStack(stack) };
}

const DYNAMIC_PASSWORD = /^\{\{resolve:secretsmanager:.+:SecretString:password::\}\}$/;

/** The logical ids of resources of a type whose properties match. */
function logicalIds(template: Template, type: string, props: object = {}): string[] {
  return Object.keys(template.findResources(type, { Properties: props }));
}

/** Renders a (possibly Fn::Join) value as one string, with `${…}` in place of intrinsics. */
function flatten(stack: Stack, value: unknown): string {
  const resolved = stack.resolve(value) as unknown;
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (v !== null && typeof v === 'object' && 'Fn::Join' in v) {
      const [sep, parts] = (v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      return parts.map(render).join(sep);
    }
    return `\${${JSON.stringify(v)}}`;
  };
  return render(resolved);
}

describe('FanoutNetwork (no NAT)', () => {
  let b: Built;
  beforeAll(() => {
    b = build('NetworkStack');
  });

  it('is a VPC over two AZs with isolated app and data subnets, and no NAT or internet gateway', () => {
    b.template.hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: '10.0.0.0/16',
      EnableDnsHostnames: true,
      EnableDnsSupport: true,
    });
    const subnets = b.template.findResources('AWS::EC2::Subnet');
    expect(Object.keys(subnets)).toHaveLength(4);
    for (const subnet of Object.values(subnets)) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
    b.template.resourcePropertiesCountIs(
      'AWS::EC2::Subnet',
      { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Isolated' }]) },
      4,
    );
    b.template.resourcePropertiesCountIs(
      'AWS::EC2::Subnet',
      { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-name', Value: 'app' }]) },
      2,
    );
    b.template.resourcePropertiesCountIs(
      'AWS::EC2::Subnet',
      { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-name', Value: 'data' }]) },
      2,
    );
    b.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    b.template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    b.template.resourceCountIs('AWS::EC2::Route', 0);
    expect(b.network.vpc.selectSubnets(b.network.lambdaSubnets).subnetIds).toHaveLength(2);
    expect(b.network.vpc.selectSubnets(b.network.cacheSubnets).subnetIds).toHaveLength(2);
  });

  it('has gateway endpoints for DynamoDB and S3 on the app subnets', () => {
    for (const service of ['dynamodb', 's3']) {
      b.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${service}`]] },
        RouteTableIds: Match.arrayWith([
          Match.objectLike({ Ref: Match.stringLikeRegexp('appSubnet1RouteTable') }),
        ]),
      });
    }
    b.template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' }, 2);
  });

  it('has private-DNS interface endpoints for every service the functions call, behind one security group', () => {
    const endpointSg = b.stack.resolve(b.network.endpointSecurityGroup.securityGroupId);
    const services = [
      'sqs',
      'sns',
      'kinesis-streams',
      'kinesis-firehose',
      'secretsmanager',
      'email',
      'logs',
      'kms',
      'sts',
      'xray',
    ];
    for (const service of services) {
      b.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${service}`]] },
        PrivateDnsEnabled: true,
        SecurityGroupIds: [endpointSg],
        SubnetIds: Match.arrayWith([Match.objectLike({ Ref: Match.stringLikeRegexp('appSubnet1') })]),
      });
    }
    b.template.resourcePropertiesCountIs(
      'AWS::EC2::VPCEndpoint',
      { VpcEndpointType: 'Interface' },
      services.length,
    );
    // SES v2's API endpoint, not the SMTP one.
    expect(JSON.stringify(b.template.toJSON())).not.toContain('email-smtp');
    expect(Object.keys(b.network.interfaceEndpoints).sort()).toEqual([...services].sort());
  });

  it('logs all VPC traffic to a retained CloudWatch log group', () => {
    b.template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: { Ref: Match.stringLikeRegexp('NetworkFlowLogs') },
      DeliverLogsPermissionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('FlowLog'), 'Arn'] },
    });
    b.template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('strips the rules of the default security group', () => {
    b.template.hasResourceProperties('Custom::VpcRestrictDefaultSG', {
      DefaultSecurityGroupId: {
        'Fn::GetAtt': [Match.stringLikeRegexp('NetworkVpc'), 'DefaultSecurityGroup'],
      },
    });
  });

  it('lets the Lambda security group out on 443 and to the caches on 6379 only, with no ingress', () => {
    const lambdaSg = b.stack.resolve(b.network.lambdaSecurityGroup.securityGroupId);
    const cacheSg = b.stack.resolve(b.network.cacheSecurityGroup.securityGroupId);
    const [lambdaSgId] = logicalIds(b.template, 'AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Lambda functions: HTTPS'),
    });
    expect(lambdaSgId).toBeDefined();
    const lambdaSgResource = b.template.toJSON().Resources[lambdaSgId!];
    expect(lambdaSgResource.Properties.SecurityGroupEgress).toEqual([
      {
        CidrIp: '0.0.0.0/0',
        Description: 'HTTPS to VPC endpoints and AWS APIs',
        FromPort: 443,
        IpProtocol: 'tcp',
        ToPort: 443,
      },
    ]);
    expect(lambdaSgResource.Properties.SecurityGroupIngress).toBeUndefined();
    b.template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: lambdaSg,
      DestinationSecurityGroupId: cacheSg,
      IpProtocol: 'tcp',
      FromPort: 6379,
      ToPort: 6379,
    });
  });

  it('admits 6379 to the caches and 443 to the endpoints from the Lambda security group only', () => {
    const lambdaSg = b.stack.resolve(b.network.lambdaSecurityGroup.securityGroupId);
    const cacheSg = b.stack.resolve(b.network.cacheSecurityGroup.securityGroupId);
    const endpointSg = b.stack.resolve(b.network.endpointSecurityGroup.securityGroupId);
    b.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: cacheSg,
      SourceSecurityGroupId: lambdaSg,
      IpProtocol: 'tcp',
      FromPort: 6379,
      ToPort: 6379,
    });
    b.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: endpointSg,
      SourceSecurityGroupId: lambdaSg,
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
    });
    b.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 2);
    // The cache and endpoint groups: no inline ingress from any CIDR, and no egress.
    for (const description of [
      'Redis from the Lambda functions only',
      'HTTPS from the Lambda functions only',
    ]) {
      const [id] = logicalIds(b.template, 'AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp(description),
      });
      const sg = b.template.toJSON().Resources[id!];
      expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
      expect(sg.Properties.SecurityGroupEgress).toEqual([
        expect.objectContaining({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' }),
      ]);
    }
  });

  it('rejects a negative NAT gateway count', () => {
    expect(() => new FanoutNetwork(new Stack(new App(), 'Bad'), 'Network', { natGateways: -1 })).toThrow(
      /natGateways/,
    );
  });
});

describe('FanoutNetwork (with NAT)', () => {
  it('puts the functions in private subnets with egress through the NAT gateways and keeps the caches isolated', () => {
    // Arrange
    const b = build('NatStack', { natGateways: 1 });
    // Assess
    b.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    b.template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    b.template.resourcePropertiesCountIs(
      'AWS::EC2::Subnet',
      { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Private' }]) },
      2,
    );
    b.template.resourcePropertiesCountIs(
      'AWS::EC2::Subnet',
      { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Public' }]) },
      2,
    );
    b.template.resourcePropertiesCountIs(
      'AWS::EC2::Subnet',
      {
        Tags: Match.arrayWith([
          { Key: 'aws-cdk:subnet-name', Value: 'data' },
          { Key: 'aws-cdk:subnet-type', Value: 'Isolated' },
        ]),
      },
      2,
    );
    b.template.hasResourceProperties('AWS::EC2::Route', {
      DestinationCidrBlock: '0.0.0.0/0',
      NatGatewayId: Match.anyValue(),
      RouteTableId: { Ref: Match.stringLikeRegexp('appSubnet1RouteTable') },
    });
  });
});

describe('FanoutCaches (serverless)', () => {
  let b: Built;
  beforeAll(() => {
    b = build('CachesStack');
  });

  it('creates an ElastiCache Serverless Valkey cache in the data subnets, behind the cache security group, with the KMS key', () => {
    const cacheSg = b.stack.resolve(b.network.cacheSecurityGroup.securityGroupId);
    const dataSubnets = b.network.vpc
      .selectSubnets(b.network.cacheSubnets)
      .subnetIds.map((id) => b.stack.resolve(id));
    b.template.hasResource('AWS::ElastiCache::ServerlessCache', {
      Properties: {
        Engine: 'valkey',
        MajorEngineVersion: '8',
        ServerlessCacheName: Match.stringLikeRegexp('^[a-z][a-z0-9-]*-cache$'),
        SubnetIds: dataSubnets,
        SecurityGroupIds: [cacheSg],
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('CachesKey'), 'Arn'] },
        UserGroupId: Match.stringLikeRegexp('-cache-users$'),
        SnapshotRetentionLimit: 1,
      },
      DeletionPolicy: 'Retain',
      DependsOn: Match.arrayWith([Match.stringLikeRegexp('CacheUserGroup')]),
    });
    b.template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    expect(b.caches.serverlessCache).toBeDefined();
    expect(b.caches.replicationGroup).toBeUndefined();
  });

  it('guards the cache with a user group: the default user off, the app user with a dynamic-reference password', () => {
    b.template.hasResourceProperties('AWS::ElastiCache::User', {
      Engine: 'valkey',
      UserName: 'default',
      AccessString: 'off -@all',
      NoPasswordRequired: true,
      UserId: Match.stringLikeRegexp('-cache-default$'),
    });
    const [appId] = logicalIds(b.template, 'AWS::ElastiCache::User', {
      AccessString: 'on ~fanout:* +@all -flushall -flushdb -config -debug -shutdown -keys -swapdb',
    });
    const app = b.template.toJSON().Resources[appId!];
    expect(app.Properties.Engine).toBe('valkey');
    expect(app.Properties.UserName).toMatch(/-cache-app$/);
    expect(app.Properties.Passwords).toHaveLength(1);
    expect(flatten(b.stack, app.Properties.Passwords[0])).toMatch(DYNAMIC_PASSWORD);
    b.template.hasResource('AWS::ElastiCache::UserGroup', {
      Properties: {
        Engine: 'valkey',
        UserGroupId: Match.stringLikeRegexp('-cache-users$'),
        UserIds: [Match.stringLikeRegexp('-cache-default$'), Match.stringLikeRegexp('-cache-app$')],
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('creates a MemoryDB Valkey cluster with TLS, a replica per shard, retained snapshots and the KMS key', () => {
    const cacheSg = b.stack.resolve(b.network.cacheSecurityGroup.securityGroupId);
    b.template.hasResource('AWS::MemoryDB::Cluster', {
      Properties: {
        Engine: 'valkey',
        EngineVersion: '7.3',
        NodeType: 'db.r7g.large',
        NumShards: 1,
        NumReplicasPerShard: 1,
        TLSEnabled: true,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('CachesKey'), 'Arn'] },
        SnapshotRetentionLimit: 7,
        SecurityGroupIds: [cacheSg],
        Port: 6379,
        ACLName: Match.stringLikeRegexp('-dedup-acl$'),
        SubnetGroupName: Match.stringLikeRegexp('-dedup-subnets$'),
        ClusterName: Match.stringLikeRegexp('^[a-z][a-z0-9-]*-dedup$'),
      },
      DeletionPolicy: 'Retain',
      DependsOn: Match.arrayWith([
        Match.stringLikeRegexp('DedupAcl'),
        Match.stringLikeRegexp('DedupSubnetGroup'),
      ]),
    });
    const dataSubnets = b.network.vpc
      .selectSubnets(b.network.cacheSubnets)
      .subnetIds.map((id) => b.stack.resolve(id));
    b.template.hasResource('AWS::MemoryDB::SubnetGroup', {
      Properties: { SubnetIds: dataSubnets, SubnetGroupName: Match.stringLikeRegexp('-dedup-subnets$') },
      DeletionPolicy: 'Retain',
    });
  });

  it('authenticates MemoryDB with an ACL user whose password is a Secrets Manager dynamic reference', () => {
    const [userId] = logicalIds(b.template, 'AWS::MemoryDB::User');
    const user = b.template.toJSON().Resources[userId!];
    expect(user.DeletionPolicy).toBe('Retain');
    expect(user.Properties.AccessString).toBe(
      'on ~fanout:* +@all -flushall -flushdb -config -debug -shutdown -keys -swapdb',
    );
    expect(user.Properties.UserName).toMatch(/-dedup-app$/);
    expect(user.Properties.AuthenticationMode.Type).toBe('password');
    expect(user.Properties.AuthenticationMode.Passwords).toHaveLength(1);
    expect(flatten(b.stack, user.Properties.AuthenticationMode.Passwords[0])).toMatch(DYNAMIC_PASSWORD);
    b.template.hasResource('AWS::MemoryDB::ACL', {
      Properties: { ACLName: Match.stringLikeRegexp('-dedup-acl$'), UserNames: [user.Properties.UserName] },
      DependsOn: [userId],
      DeletionPolicy: 'Retain',
    });
  });

  it('generates both passwords in Secrets Manager, URL-safe, encrypted with the key, retained', () => {
    const secrets = b.template.findResources('AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(2);
    for (const secret of Object.values(secrets)) {
      expect(secret.DeletionPolicy).toBe('Retain');
      expect(secret.Properties.KmsKeyId).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/CachesKey/), 'Arn'],
      });
      expect(secret.Properties.GenerateSecretString).toEqual({
        SecretStringTemplate: expect.stringMatching(/^\{"username":"[a-z0-9-]+"\}$/),
        GenerateStringKey: 'password',
        PasswordLength: 32,
        ExcludePunctuation: true,
        IncludeSpace: false,
      });
      expect(secret.Properties.SecretString).toBeUndefined();
    }
  });

  it('writes no password into the template', () => {
    const json = JSON.stringify(b.template.toJSON());
    expect(json).not.toMatch(/"Passwords":\["[^{]/);
    expect(json).not.toContain('AuthToken');
    expect(json).not.toContain('"SecretString":');
  });

  it('names every ElastiCache and MemoryDB resource with one stable, valid prefix of at most 40 characters', () => {
    const resources = b.template.toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    const nameKeys = [
      'UserId',
      'UserGroupId',
      'ServerlessCacheName',
      'ClusterName',
      'ACLName',
      'SubnetGroupName',
    ];
    const names = Object.values(resources)
      .filter((r) => r.Type.startsWith('AWS::ElastiCache::') || r.Type.startsWith('AWS::MemoryDB::'))
      .flatMap((r) => nameKeys.map((k) => r.Properties[k]).filter((v): v is string => typeof v === 'string'));
    // cache-app, cache-default, cache-users, cache, dedup, dedup-acl, dedup-subnets (some referenced twice).
    expect(new Set(names).size).toBe(7);
    const prefixes = new Set<string>();
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(40);
      expect(name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      prefixes.add(name.replace(/-(cache|dedup)(-[a-z]+)?$/, ''));
    }
    expect(prefixes.size).toBe(1);
  });

  it('passes the cdk-nag AwsSolutions checks, with and without NAT (password rotation acknowledged)', () => {
    for (const stack of [b.stack, build('NagNatStack', { natGateways: 1 }).stack]) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    }
  });

  it('uses a rotating customer-managed key, retained', () => {
    b.template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, RotationPeriodInDays: 365 },
      DeletionPolicy: 'Retain',
    });
  });

  it('exposes rediss:// URLs with the user, the dynamic-reference password and the endpoint attributes', () => {
    const cacheUrl = flatten(b.stack, b.caches.cacheRedisUrl);
    expect(cacheUrl).toMatch(
      /^rediss:\/\/[a-z0-9-]+-cache-app:\{\{resolve:secretsmanager:.+:SecretString:password::\}\}@\$\{.*Endpoint\.Address.*\}:\$\{.*Endpoint\.Port.*\}$/,
    );
    expect(cacheUrl).toContain('"Fn::GetAtt":["CachesCache');
    const dedupUrl = flatten(b.stack, b.caches.dedupRedisUrl);
    expect(dedupUrl).toMatch(
      /^rediss:\/\/[a-z0-9-]+-dedup-app:\{\{resolve:secretsmanager:.+:SecretString:password::\}\}@\$\{.*ClusterEndpoint\.Address.*\}:6379$/,
    );
    // The integer attribute ClusterEndpoint.Port inside Fn::Join is rejected by CloudFormation.
    expect(dedupUrl).not.toContain('ClusterEndpoint.Port');
    b.template.hasResourceProperties('AWS::MemoryDB::Cluster', { Port: 6379 });
    expect(b.caches.redisCluster).toBe(true);
    expect(Object.keys(b.caches.environment).sort()).toEqual([
      'FANOUT_CACHE_REDIS_URL',
      'FANOUT_DEDUP_REDIS_URL',
      'FANOUT_REDIS_CLUSTER',
    ]);
    expect(b.caches.environment.FANOUT_REDIS_CLUSTER).toBe('true');
    expect(flatten(b.stack, b.caches.environment.FANOUT_DEDUP_REDIS_URL)).toBe(dedupUrl);
    expect(b.stack.resolve(b.caches.cacheEndpoint.address)).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/CachesCache/), 'Endpoint.Address'],
    });
  });

  it('rejects a dedup cluster without replicas and out-of-range snapshot retention', () => {
    const network = new FanoutNetwork(new Stack(new App(), 'Bad'), 'Network');
    const base = { vpc: network.vpc, securityGroup: network.cacheSecurityGroup };
    expect(() => new FanoutCaches(network, 'A', { ...base, dedupReplicasPerShard: 0 })).toThrow(
      /dedupReplicasPerShard/,
    );
    expect(() => new FanoutCaches(network, 'B', { ...base, dedupSnapshotRetentionDays: 36 })).toThrow(
      /dedupSnapshotRetentionDays/,
    );
    expect(() => new FanoutCaches(network, 'C', { ...base, cacheReplicasPerShard: 0 })).toThrow(
      /cacheReplicasPerShard/,
    );
  });
});

describe('FanoutCaches (node-based)', () => {
  let b: Built;
  beforeAll(() => {
    b = build('NodeCachesStack', { mode: 'node-based' });
  });

  it('creates a cluster-mode Valkey replication group with TLS, at-rest encryption, Multi-AZ and failover', () => {
    const cacheSg = b.stack.resolve(b.network.cacheSecurityGroup.securityGroupId);
    b.template.hasResource('AWS::ElastiCache::ReplicationGroup', {
      Properties: {
        Engine: 'valkey',
        EngineVersion: '8.0',
        CacheParameterGroupName: 'default.valkey8.cluster.on',
        CacheNodeType: 'cache.r7g.large',
        ClusterMode: 'enabled',
        NumNodeGroups: 2,
        ReplicasPerNodeGroup: 1,
        AutomaticFailoverEnabled: true,
        MultiAZEnabled: true,
        TransitEncryptionEnabled: true,
        TransitEncryptionMode: 'required',
        AtRestEncryptionEnabled: true,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('CachesKey'), 'Arn'] },
        CacheSubnetGroupName: { Ref: Match.stringLikeRegexp('CacheSubnetGroup') },
        SecurityGroupIds: [cacheSg],
        Port: 6379,
        UserGroupIds: [Match.stringLikeRegexp('-cache-users$')],
        SnapshotRetentionLimit: 1,
        ReplicationGroupId: Match.stringLikeRegexp('^[a-z][a-z0-9-]*-cache$'),
      },
      DeletionPolicy: 'Retain',
    });
    const dataSubnets = b.network.vpc
      .selectSubnets(b.network.cacheSubnets)
      .subnetIds.map((id) => b.stack.resolve(id));
    b.template.hasResource('AWS::ElastiCache::SubnetGroup', {
      Properties: { SubnetIds: dataSubnets },
      DeletionPolicy: 'Retain',
    });
    b.template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 0);
  });

  it('passes the cdk-nag AwsSolutions checks (RBAC acknowledged in place of an AUTH token)', () => {
    const report = new AwsSolutionsChecks().validateScope(b.stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('points the cache URL at the configuration endpoint', () => {
    expect(flatten(b.stack, b.caches.cacheRedisUrl)).toMatch(
      /^rediss:\/\/[a-z0-9-]+-cache-app:\{\{resolve:secretsmanager:.+\}\}@\$\{.*ConfigurationEndPoint\.Address.*\}:\$\{.*ConfigurationEndPoint\.Port.*\}$/,
    );
    expect(b.caches.replicationGroup).toBeDefined();
  });

  it('keeps the MemoryDB cluster the same', () => {
    b.template.hasResourceProperties('AWS::MemoryDB::Cluster', {
      TLSEnabled: true,
      NumReplicasPerShard: 1,
      SnapshotRetentionLimit: 7,
    });
  });
});
