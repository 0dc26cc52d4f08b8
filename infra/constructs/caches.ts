import { type CfnResource, Duration, Names, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as memorydb from 'aws-cdk-lib/aws-memorydb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** How the ElastiCache cache (preference cache, hot follower lists) is provisioned. */
export type CacheMode = 'serverless' | 'node-based';

/** Upper bounds of an ElastiCache Serverless cache (what it may scale to, and cost). */
export interface ServerlessCacheLimits {
  /** Maximum data stored, GB. @default no limit */
  readonly maxDataStorageGb?: number;
  /** Maximum ElastiCache Processing Units per second. @default no limit */
  readonly maxEcpuPerSecond?: number;
}

/** Properties of {@link FanoutCaches}. */
export interface FanoutCachesProps {
  /** The VPC of the caches (see `FanoutNetwork`). */
  readonly vpc: ec2.IVpc;
  /** Subnets of the caches, in at least two AZs. @default the VPC's isolated subnets */
  readonly subnets?: ec2.SubnetSelection;
  /** Security group of both caches; it should admit TCP 6379 from the functions only. */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * Key of encryption at rest of both caches, their snapshots and the two password secrets.
   * @default a new customer-managed key with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * `serverless`: an ElastiCache Serverless (Valkey) cache, scaling on its own, Multi-AZ and
   * encrypted in transit and at rest by construction. `node-based`: a cluster-mode replication
   * group (Valkey) with TLS, at-rest encryption, Multi-AZ and automatic failover.
   * @default 'serverless'
   */
  readonly mode?: CacheMode;
  /** Valkey major version of the serverless cache. @default '8' */
  readonly cacheMajorEngineVersion?: string;
  /** Scaling limits of the serverless cache. @default no limits */
  readonly serverlessLimits?: ServerlessCacheLimits;
  /** Valkey version of the node-based cache (its parameter group is the default cluster-mode one). @default '8.0' */
  readonly cacheEngineVersion?: string;
  /** Node type of the node-based cache. @default 'cache.r7g.large' */
  readonly cacheNodeType?: string;
  /** Shards of the node-based cache. @default 2 */
  readonly cacheShards?: number;
  /** Replicas per shard of the node-based cache, ≥ 1 (Multi-AZ failover needs one). @default 1 */
  readonly cacheReplicasPerShard?: number;
  /** Days of daily snapshots of the cache (it holds nothing that DynamoDB does not). @default 1 */
  readonly cacheSnapshotRetentionDays?: number;
  /** MemoryDB engine version (Valkey). @default '7.3' */
  readonly dedupEngineVersion?: string;
  /** MemoryDB node type. @default 'db.r7g.large' */
  readonly dedupNodeType?: string;
  /** MemoryDB shards. @default 1 */
  readonly dedupShards?: number;
  /** MemoryDB replicas per shard, ≥ 1 (Multi-AZ). @default 1 */
  readonly dedupReplicasPerShard?: number;
  /** Days of MemoryDB's daily snapshots, 1 to 35. @default 7 */
  readonly dedupSnapshotRetentionDays?: number;
  /**
   * Key pattern the application users may touch (Redis ACL `~pattern`). The adapters' keys start
   * with their `keyPrefix` and a colon; the Lambda functions use the default prefix `fanout`.
   * @default 'fanout:*'
   */
  readonly keyPattern?: string;
  /**
   * Removal policy of the caches, the MemoryDB cluster, their users, ACL, subnet groups, secrets
   * and the key (all of them, so that a retained cluster is never left with its ACL deleted).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Host and port of a cache's (configuration) endpoint: CloudFormation attributes (tokens), except
 * the MemoryDB port, which is the literal port the construct gives the cluster.
 */
export interface RedisEndpoint {
  readonly address: string;
  readonly port: string;
}

/** A Redis-protocol port. */
const REDIS_PORT = 6379;

/**
 * The two Redis-protocol stores of the AWS mode.
 *
 * - **ElastiCache (Valkey)**: the preference cache and the hot follower lists
 *   (`FANOUT_CACHE_REDIS_URL`). Serverless by default (`CfnServerlessCache`), or a node-based
 *   cluster-mode replication group (`mode: 'node-based'`): TLS required, at-rest encryption with
 *   the KMS key, Multi-AZ, automatic failover. Losing it costs only DynamoDB reads.
 * - **MemoryDB (Valkey)**: the dedup store (`FANOUT_DEDUP_REDIS_URL`), durable (multi-AZ
 *   transaction log), TLS, KMS, at least one replica per shard, daily snapshots kept
 *   `dedupSnapshotRetentionDays`.
 *
 * Both are cluster mode (serverless ElastiCache answers cluster-mode clients; MemoryDB is always
 * clustered), so {@link redisCluster} is `true` and the functions get `FANOUT_REDIS_CLUSTER=true`
 * (one flag serves both URLs). Keys already carry hash tags.
 *
 * ## How the functions authenticate
 *
 * Both stores use Redis ACL users (role-based access control), not the open default user:
 *
 * - MemoryDB: an ACL with one user, access string `on ~fanout:* +@all` (only the adapters' keys).
 * - ElastiCache: a user group with the mandatory `default` user switched off (`off -@all`, so a
 *   connection that does not authenticate can do nothing) and the application user, same access
 *   string.
 *
 * Each application user's password is generated by Secrets Manager (32 alphanumeric characters, so
 * it needs no escaping in a URL), encrypted with the key. It never appears in the template: the
 * user resource and the URL both carry a CloudFormation dynamic reference
 * (`{{resolve:secretsmanager:<arn>:SecretString:password::}}`), resolved at deployment. The URLs
 * are therefore `rediss://<user>:<password>@<host>:<port>`, and `createRedis`
 * (`src/runtime/aws-clients.ts`) already takes the user name and password from the URL and turns
 * on TLS for `rediss:`, so the adapters need no change. The same trade-off as the HMAC secrets
 * (docs/lambda.md): the password ends up in the functions' environment (encrypted at rest by
 * Lambda), readable by whoever may call `lambda:GetFunctionConfiguration`; a rotated password takes
 * effect at the next deployment, which updates the user and the functions together (there is no
 * rotation Lambda: a rotation outside a deployment would lock the functions out).
 *
 * Gap, IAM authentication (both services support user `authentication-mode iam`): it would keep
 * the password out of the environment, but the adapter would have to build a SigV4-presigned
 * token (`GET` `https://<cache name>/?Action=connect&User=<user>`, `X-Amz-Expires=900`, service
 * `elasticache` or `memorydb`, signed with the function's role credentials) as the AUTH password
 * for every new connection, including the connections ioredis's cluster client opens to each shard
 * and on reconnect (tokens last 15 minutes; connections are dropped after 12 hours), and the role
 * would need `elasticache:Connect` / `memorydb:Connect` on the cache and the user. `createRedis`
 * has no such hook today, so this construct uses passwords.
 *
 * Network: the caches sit in the given (isolated) subnets behind the given security group, which
 * `FanoutNetwork` opens to the Lambda security group only, on 6379.
 */
export class FanoutCaches extends Construct {
  /** `rediss://user:password@host:port` of the ElastiCache cache (a token with a dynamic reference). */
  readonly cacheRedisUrl: string;
  /** `rediss://user:password@host:port` of the MemoryDB cluster (a token with a dynamic reference). */
  readonly dedupRedisUrl: string;
  /** Whether clients must use cluster mode (always `true`: see the class comment). */
  readonly redisCluster: boolean;
  /** FANOUT_CACHE_REDIS_URL, FANOUT_DEDUP_REDIS_URL, FANOUT_REDIS_CLUSTER, for every function. */
  readonly environment: Readonly<Record<string, string>>;
  readonly cacheEndpoint: RedisEndpoint;
  readonly dedupEndpoint: RedisEndpoint;
  /** Secret `{username, password}` of the ElastiCache application user. */
  readonly cacheSecret: secretsmanager.ISecret;
  /** Secret `{username, password}` of the MemoryDB application user. */
  readonly dedupSecret: secretsmanager.ISecret;
  readonly encryptionKey: kms.IKey;
  /** The serverless cache (mode `serverless`). */
  readonly serverlessCache?: elasticache.CfnServerlessCache;
  /** The replication group (mode `node-based`). */
  readonly replicationGroup?: elasticache.CfnReplicationGroup;
  readonly dedupCluster: memorydb.CfnCluster;

  constructor(scope: Construct, id: string, props: FanoutCachesProps) {
    super(scope, id);
    const mode = props.mode ?? 'serverless';
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    // Prefix of every physical name: ≤ 22 characters, so `<base>-cache-default` stays within 40.
    const base = physicalBase(this, 22);
    const keyPattern = props.keyPattern ?? 'fanout:*';
    // Everything the adapters send (strings, sorted sets, Lua scripts, SCAN; the client's own
    // INFO and CLUSTER SLOTS), nothing that wipes or reconfigures the store: losing the dedup keys
    // would let deliveries repeat. Not `-@dangerous`: that category holds INFO, which the client's
    // ready check sends.
    const accessString = `on ~${keyPattern} +@all -flushall -flushdb -config -debug -shutdown -keys -swapdb`;
    const cacheReplicas = props.cacheReplicasPerShard ?? 1;
    const dedupReplicas = props.dedupReplicasPerShard ?? 1;
    const dedupSnapshots = props.dedupSnapshotRetentionDays ?? 7;
    atLeast('cacheReplicasPerShard', cacheReplicas, 1);
    atLeast('dedupReplicasPerShard', dedupReplicas, 1);
    atLeast('cacheShards', props.cacheShards ?? 2, 1);
    atLeast('dedupShards', props.dedupShards ?? 1, 1);
    if (!Number.isInteger(dedupSnapshots) || dedupSnapshots < 1 || dedupSnapshots > 35) {
      throw new Error(`dedupSnapshotRetentionDays must be an integer in [1, 35], got ${dedupSnapshots}`);
    }
    if (/\s/.test(keyPattern) || keyPattern.length === 0) {
      throw new Error(`keyPattern must be one non-empty word, got '${keyPattern}'`);
    }
    const withRemovalPolicy = (resource: CfnResource): void => resource.applyRemovalPolicy(removalPolicy);

    const key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Fanout caches: ElastiCache, MemoryDB, their snapshots and passwords',
        enableKeyRotation: true,
        rotationPeriod: Duration.days(365),
        removalPolicy,
      });
    this.encryptionKey = key;
    const subnetIds = props.vpc.selectSubnets(
      props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ).subnetIds;
    const securityGroupIds = [props.securityGroup.securityGroupId];

    // ElastiCache ---------------------------------------------------------------------------
    const cacheUser = this.#password('CacheUserSecret', `${base}-cache-app`, key, removalPolicy);
    const cacheAppUser = new elasticache.CfnUser(this, 'CacheAppUser', {
      engine: 'valkey',
      userId: `${base}-cache-app`,
      userName: cacheUser.username,
      accessString,
      passwords: [cacheUser.password],
    });
    const cacheDefaultUser = new elasticache.CfnUser(this, 'CacheDefaultUser', {
      engine: 'valkey',
      userId: `${base}-cache-default`,
      userName: 'default',
      accessString: 'off -@all',
      noPasswordRequired: true,
    });
    const userGroup = new elasticache.CfnUserGroup(this, 'CacheUserGroup', {
      engine: 'valkey',
      userGroupId: `${base}-cache-users`,
      userIds: [cacheDefaultUser.userId, cacheAppUser.userId],
    });
    userGroup.addResourceDependency(cacheDefaultUser);
    userGroup.addResourceDependency(cacheAppUser);
    for (const r of [cacheAppUser, cacheDefaultUser, userGroup]) withRemovalPolicy(r);

    let cacheEndpoint: RedisEndpoint;
    if (mode === 'serverless') {
      const limits = props.serverlessLimits;
      const cache = new elasticache.CfnServerlessCache(this, 'Cache', {
        serverlessCacheName: `${base}-cache`,
        description: 'Fanout preference cache and hot follower lists',
        engine: 'valkey',
        majorEngineVersion: props.cacheMajorEngineVersion ?? '8',
        subnetIds,
        securityGroupIds,
        kmsKeyId: key.keyArn,
        userGroupId: userGroup.userGroupId,
        snapshotRetentionLimit: props.cacheSnapshotRetentionDays ?? 1,
        ...(limits === undefined
          ? {}
          : {
              cacheUsageLimits: {
                ...(limits.maxDataStorageGb === undefined
                  ? {}
                  : { dataStorage: { maximum: limits.maxDataStorageGb, unit: 'GB' } }),
                ...(limits.maxEcpuPerSecond === undefined
                  ? {}
                  : { ecpuPerSecond: { maximum: limits.maxEcpuPerSecond } }),
              },
            }),
      });
      cache.addResourceDependency(userGroup);
      withRemovalPolicy(cache);
      this.serverlessCache = cache;
      cacheEndpoint = { address: cache.attrEndpointAddress, port: cache.attrEndpointPort };
    } else {
      const engineVersion = props.cacheEngineVersion ?? '8.0';
      const major = engineVersion.split('.')[0];
      const subnetGroup = new elasticache.CfnSubnetGroup(this, 'CacheSubnetGroup', {
        cacheSubnetGroupName: `${base}-cache-subnets`,
        description: 'Fanout ElastiCache subnets',
        subnetIds,
      });
      withRemovalPolicy(subnetGroup);
      const group = new elasticache.CfnReplicationGroup(this, 'Cache', {
        replicationGroupId: `${base}-cache`,
        replicationGroupDescription: 'Fanout preference cache and hot follower lists',
        engine: 'valkey',
        engineVersion,
        cacheParameterGroupName: `default.valkey${major}.cluster.on`,
        cacheNodeType: props.cacheNodeType ?? 'cache.r7g.large',
        clusterMode: 'enabled',
        numNodeGroups: props.cacheShards ?? 2,
        replicasPerNodeGroup: cacheReplicas,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        transitEncryptionEnabled: true,
        transitEncryptionMode: 'required',
        atRestEncryptionEnabled: true,
        kmsKeyId: key.keyArn,
        cacheSubnetGroupName: subnetGroup.ref,
        securityGroupIds,
        port: REDIS_PORT,
        userGroupIds: [userGroup.userGroupId],
        snapshotRetentionLimit: props.cacheSnapshotRetentionDays ?? 1,
        autoMinorVersionUpgrade: true,
      });
      Validations.of(group).acknowledge({
        id: 'AwsSolutions-AEC6',
        reason:
          'Clients authenticate with Redis ACL users (role-based access control, the user group with the default user off), which replaces the single AUTH token this rule looks for.',
      });
      group.addResourceDependency(userGroup);
      group.addResourceDependency(subnetGroup);
      withRemovalPolicy(group);
      this.replicationGroup = group;
      cacheEndpoint = {
        address: group.attrConfigurationEndPointAddress,
        port: group.attrConfigurationEndPointPort,
      };
    }
    this.cacheEndpoint = cacheEndpoint;
    this.cacheSecret = cacheUser.secret;

    // MemoryDB --------------------------------------------------------------------------------
    const dedupUser = this.#password('DedupUserSecret', `${base}-dedup-app`, key, removalPolicy);
    const user = new memorydb.CfnUser(this, 'DedupUser', {
      userName: dedupUser.username,
      accessString,
      authenticationMode: { Type: 'password', Passwords: [dedupUser.password] },
    });
    const aclName = `${base}-dedup-acl`;
    const acl = new memorydb.CfnACL(this, 'DedupAcl', { aclName, userNames: [dedupUser.username] });
    acl.addResourceDependency(user);
    const dedupSubnets = new memorydb.CfnSubnetGroup(this, 'DedupSubnetGroup', {
      subnetGroupName: `${base}-dedup-subnets`,
      description: 'Fanout MemoryDB subnets',
      subnetIds,
    });
    const cluster = new memorydb.CfnCluster(this, 'Dedup', {
      clusterName: `${base}-dedup`,
      description: 'Fanout dedup store (claims of deliveries, 30-day TTL)',
      engine: 'valkey',
      engineVersion: props.dedupEngineVersion ?? '7.3',
      nodeType: props.dedupNodeType ?? 'db.r7g.large',
      numShards: props.dedupShards ?? 1,
      numReplicasPerShard: dedupReplicas,
      aclName,
      tlsEnabled: true,
      kmsKeyId: key.keyArn,
      subnetGroupName: dedupSubnets.subnetGroupName,
      securityGroupIds,
      port: REDIS_PORT,
      snapshotRetentionLimit: dedupSnapshots,
      autoMinorVersionUpgrade: true,
    });
    cluster.addResourceDependency(acl);
    cluster.addResourceDependency(dedupSubnets);
    for (const r of [user, acl, dedupSubnets, cluster]) withRemovalPolicy(r);
    this.dedupCluster = cluster;
    // The port is the one set on the cluster above, written as a literal: the attribute
    // `ClusterEndpoint.Port` is an integer, and CloudFormation rejects an integer inside `Fn::Join`
    // (cfn-lint E1022), which is how the URL below is assembled.
    this.dedupEndpoint = {
      address: cluster.attrClusterEndpointAddress,
      port: String(REDIS_PORT),
    };
    this.dedupSecret = dedupUser.secret;

    this.cacheRedisUrl = `rediss://${cacheUser.username}:${cacheUser.password}@${cacheEndpoint.address}:${cacheEndpoint.port}`;
    this.dedupRedisUrl = `rediss://${dedupUser.username}:${dedupUser.password}@${this.dedupEndpoint.address}:${this.dedupEndpoint.port}`;
    this.redisCluster = true;
    this.environment = {
      FANOUT_CACHE_REDIS_URL: this.cacheRedisUrl,
      FANOUT_DEDUP_REDIS_URL: this.dedupRedisUrl,
      FANOUT_REDIS_CLUSTER: String(this.redisCluster),
    };
  }

  /** A generated `{username, password}` secret and the dynamic reference of its password. */
  #password(
    id: string,
    username: string,
    key: kms.IKey,
    removalPolicy: RemovalPolicy,
  ): { secret: secretsmanager.Secret; username: string; password: string } {
    const secret = new secretsmanager.Secret(this, id, {
      description: `Password of the Redis ACL user ${username} (resolved by CloudFormation, never in the template)`,
      encryptionKey: key,
      removalPolicy,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username }),
        generateStringKey: 'password',
        passwordLength: 32,
        excludePunctuation: true,
        includeSpace: false,
      },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "The password is resolved into the ACL user and the functions' environment at deployment; a rotation outside a deployment would lock the functions out. Rotate by a new deployment (see FanoutCaches).",
    });
    // A dynamic reference `{{resolve:secretsmanager:…}}`: CloudFormation resolves it at deployment.
    return { secret, username, password: secret.secretValueFromJson('password').unsafeUnwrap() };
  }
}

function atLeast(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

/**
 * A stable prefix of physical names, unique per construct path (it ends with a hash of the path):
 * lowercase letters, digits and single hyphens, starting with a letter, what ElastiCache and
 * MemoryDB identifiers accept.
 */
function physicalBase(scope: Construct, maxLength: number): string {
  const name = Names.uniqueResourceName(scope, { maxLength, separator: '-' })
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return /^[a-z]/.test(name) ? name : `f${name}`.slice(0, maxLength);
}
