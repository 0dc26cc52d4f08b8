import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { FanoutStack } from '../../infra/stack.ts';
import { FULL_PROPS, TEST_ENV } from './support.ts';

/**
 * AWS's own template linter, `cfn-lint` (Python, `pip install cfn-lint`), over the synthesised
 * templates: what CloudFormation would reject at deployment (types, properties, intrinsic
 * functions) fails here instead.
 */

/** One finding of `cfn-lint --format json`. */
interface Finding {
  readonly Rule: { readonly Id: string };
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Path: readonly (string | number)[] };
}

/** A finding judged false, by rule id, where it applies, and why. */
interface Ignored {
  readonly rule: string;
  /** Resource type the finding must be on (any when absent). */
  readonly resourceType?: string;
  /** The property path under the resource's `Properties` the finding must point at (any when absent). */
  readonly property?: string;
  readonly reason: string;
}

const IGNORED: readonly Ignored[] = [
  {
    rule: 'E3002',
    resourceType: 'AWS::CloudWatch::Dashboard',
    property: 'Tags',
    reason:
      "CloudFormation's AWS::CloudWatch::Dashboard takes Tags since CloudWatch added dashboard tags (June 2026), and CDK's CfnDashboard writes them; the resource schema bundled with this cfn-lint predates it.",
  },
  {
    rule: 'W3005',
    reason:
      "CDK's Lambda Function adds DependsOn on its role's default policy and on the role, whose Arn it also reads with Fn::GetAtt: a redundant but harmless ordering, the same in every CDK app.",
  },
];

const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const available = cfnLint.error === undefined && cfnLint.status === 0;
// cfn-lint is installed wherever `.ci/run` runs, so its absence fails; only an explicit opt-out skips.
const optedOut = process.env.FANOUT_SKIP_CFN_LINT === '1';
if (!available && optedOut) {
  console.warn('cfn-lint is not installed and FANOUT_SKIP_CFN_LINT=1: the template lint is skipped.');
}

let templates: string[] = [];
let findings: Finding[] = [];

beforeAll(() => {
  if (!available) return;
  // Prepare: one synthesis of two stacks, the defaults (`npm run synth` without context) and every
  // option on (replicas, SES, push, alarms, node-based caches), written to a temporary cdk.out.
  // Region only, like `npm run synth` without credentials: with an account and no context lookup,
  // CDK would write placeholder availability zones ('dummy1a') that no real synthesis produces.
  const env = { region: TEST_ENV.region };
  const app = new App();
  new FanoutStack(app, 'FanoutLintDefaults', { env });
  new FanoutStack(app, 'FanoutLintFull', {
    ...FULL_PROPS,
    env,
    cacheMode: 'nodes',
    // Provisioned capacity with auto scaling on two tables (the lowest-cost configuration's).
    tableCapacity: { tables: ['inbox', 'events'] },
  });
  templates = app.synth().stacks.map((s) => s.templateFullPath);

  // Act: cfn-lint exits non-zero when it finds anything; its JSON report is on stdout either way.
  let out: string;
  try {
    out = execFileSync('cfn-lint', ['--format', 'json', '--regions', TEST_ENV.region, '--', ...templates], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; status?: number };
    if (failed.stdout === undefined || failed.stdout.trim() === '') {
      throw new Error(`cfn-lint failed (exit ${failed.status}): ${failed.stderr ?? ''}`);
    }
    out = failed.stdout;
  }
  findings = out.trim() === '' ? [] : (JSON.parse(out) as Finding[]);
}, 600_000);

/** The resource type and property path a finding points at. */
function locate(finding: Finding): { resourceType?: string; property?: string } {
  const [section, logicalId, properties, ...rest] = finding.Location.Path;
  if (section !== 'Resources' || typeof logicalId !== 'string') return {};
  const template = JSON.parse(readFileSync(finding.Filename, 'utf8')) as {
    Resources: Record<string, { Type: string }>;
  };
  const resourceType = template.Resources[logicalId]?.Type;
  return {
    ...(resourceType === undefined ? {} : { resourceType }),
    ...(properties === 'Properties' && rest.length > 0 ? { property: rest.join('.') } : {}),
  };
}

function isIgnored(finding: Finding): boolean {
  const where = locate(finding);
  return IGNORED.some(
    (i) =>
      i.rule === finding.Rule.Id &&
      (i.resourceType === undefined || i.resourceType === where.resourceType) &&
      (i.property === undefined || i.property === where.property),
  );
}

describe.skipIf(!available && optedOut)('cfn-lint on the synthesised templates', () => {
  it('is installed (pip install cfn-lint; FANOUT_SKIP_CFN_LINT=1 skips this file)', () => {
    expect(available, `cfn-lint is not on PATH: ${cfnLint.error?.message ?? cfnLint.stderr}`).toBe(true);
  });

  it('lints both templates', () => {
    expect(templates).toHaveLength(2);
  });

  it('reports no error and no warning beyond the ones judged false', () => {
    // Assess
    const open = findings
      .filter((f) => f.Level !== 'Informational' && !isIgnored(f))
      .map((f) => `${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`);
    expect(open).toEqual([]);
  });

  it('ignores every finding judged false by rule id, with a written reason', () => {
    for (const ignored of IGNORED) {
      expect(ignored.rule).toMatch(/^[EW]\d{4}$/);
      expect(ignored.reason.length).toBeGreaterThan(40);
    }
  });

  it('finds no integer attribute inside Fn::Join (E1022), the MemoryDB port included', () => {
    // Assess: E1022 is never ignored; the dedup URL carries the cluster's literal port.
    expect(findings.filter((f) => f.Rule.Id === 'E1022')).toEqual([]);
    for (const path of templates) expect(readFileSync(path, 'utf8')).not.toContain('ClusterEndpoint.Port');
  });
});
