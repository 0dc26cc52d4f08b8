import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: entries, the lock file and `web/` are found from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Entry files under `src/lambda` that serve the Fastify app, and so read `web/` at start. */
const HTTP_ENTRIES: ReadonlySet<string> = new Set(['event-api', 'inbox-api']);

/**
 * Bundles are ESM, but Fastify, ioredis and friends are CommonJS that `require` Node built-ins:
 * esbuild's shim needs a real `require` in scope. `web.ts` finds `web/` three directories above its
 * own module URL; in the bundle every module is `index.mjs`, so `import.meta.url` is redefined as
 * the URL the source file would have under the task root (`<root>/src/http/routes/`), which puts
 * `web/` at `<root>/web/`, where `afterBundling` copies it.
 */
const BANNER = [
  "import { createRequire as __fanoutCreateRequire } from 'node:module';",
  'const require = __fanoutCreateRequire(import.meta.url);',
  "const __fanoutSourceUrl = new URL('./src/http/routes/index.mjs', import.meta.url).href;",
  // CommonJS packages bundled into ESM still read __dirname (Swagger UI finds its files by it):
  // the bundle's own directory, where afterBundling copies those files.
  'const __filename = import.meta.filename; const __dirname = import.meta.dirname;',
].join(' ');

export interface FanoutFunctionProps {
  /**
   * Entry file under src/lambda, without extension: 'event-api' | 'inbox-api' | 'fanout' |
   * 'push-consumer' | 'email-consumer' | 'preference-invalidation' | 'dead-letter-audit' |
   * 'authorizer' | 'platform-application'. The handler is its `handler` export.
   */
  readonly entry: string;
  /**
   * Environment variables (see docs/lambda.md). `POWERTOOLS_SERVICE_NAME` (`fanout-<entry>`) and
   * `POWERTOOLS_METRICS_NAMESPACE` (`Fanout`) are added.
   * @default none besides the Powertools ones
   */
  readonly environment?: Record<string, string>;
  /**
   * VPC to run in (Redis is reachable only from inside it).
   * @default not in a VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Security groups of the function's network interfaces (with `vpc`).
   * @default a new security group when `vpc` is set
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Subnets of the function's network interfaces (with `vpc`).
   * @default the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
  /** @default no reserved concurrency (the account's unreserved pool) */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * One Fanout Lambda function: a `src/lambda/<entry>.ts` file bundled locally by esbuild (ESM,
 * Node 24, ARM64, the AWS SDK left to the runtime), X-Ray active, its own log group (one month,
 * kept on deletion) and its own role, which may write to that log group and nothing else: every
 * other permission is granted by the stack (`infra/grants.ts`).
 */
export class FanoutFunction extends Construct {
  readonly function: lambda.Function;
  /** The function's log group (one month's retention, retained on deletion). */
  readonly logGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: FanoutFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logGroup = logGroup;

    // Our own role instead of AWSLambdaBasicExecutionRole: that managed policy may create any log
    // group and write to all of them.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Fanout ${props.entry} function`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    if (props.vpc !== undefined) {
      // What AWSLambdaVPCAccessExecutionRole grants: Lambda manages the function's ENIs with the
      // function's role, and these actions support no resource-level scoping on create/describe.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    const http = HTTP_ENTRIES.has(props.entry);
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${PROJECT_ROOT}src/lambda/${props.entry}.ts`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 1024,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.vpc === undefined ? {} : { vpc: props.vpc }),
      ...(props.securityGroups === undefined ? {} : { securityGroups: props.securityGroups }),
      ...(props.vpcSubnets === undefined ? {} : { vpcSubnets: props.vpcSubnets }),
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: `fanout-${props.entry}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Fanout',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        externalModules: ['@aws-sdk/*'],
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        banner: BANNER,
        define: { 'import.meta.url': '__fanoutSourceUrl' },
        ...(http
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) => [
                  `cp -R "${inputDir}/web" "${outputDir}/web"`,
                  // The /docs page: Swagger UI's files, found through __dirname (see BANNER).
                  `cp -R "${inputDir}/node_modules/@fastify/swagger-ui/static" "${outputDir}/static"`,
                ],
              },
            }
          : {}),
      },
    });

    // cdk-nag 3 reads CDK's own acknowledgements; each finding id is acknowledged on its own.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; a VPC function also needs the ENI actions of AWSLambdaVPCAccessExecutionRole, which Lambda calls on interfaces that do not exist yet.',
    });
  }
}
