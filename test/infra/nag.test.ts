import { Validations } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FanoutStack } from '../../infra/stack.ts';
import { synthStack, TEST_ENV } from './support.ts';

let stack: FanoutStack;
let template: Template;

beforeAll(() => {
  // The defaults: what `npm run synth` deploys without context.
  ({ stack, template } = synthStack({ env: TEST_ENV }, 'FanoutNag'));
}, 300_000);

function* constructs(root: IConstruct): Generator<IConstruct> {
  yield root;
  for (const child of root.node.children) yield* constructs(child);
}

describe('cdk-nag AwsSolutions', () => {
  it('finds no unacknowledged error and no unacknowledged warning', () => {
    // cdk-nag 3 is a validation plugin: validateScope is what synthesis runs.
    const report = new AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('leaves no CDK error or AwsSolutions annotation on the stack', () => {
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual(
      [],
    );
  });

  it('warns at synthesis when email has no sender (this stack has no sesFrom or sesIdentity)', () => {
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('email_not_configured'),
    );
    expect(warnings).toHaveLength(1);
  });

  it('gives every acknowledgement a written reason', () => {
    const acknowledgements: [string, string, unknown][] = [];
    for (const construct of constructs(stack)) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
          acknowledgements.push([construct.node.path, id, reason]);
        }
      }
    }
    expect(acknowledgements.length).toBeGreaterThan(0);
    const unexplained = acknowledgements.filter(
      ([, , reason]) => typeof reason !== 'string' || reason.trim().length < 20,
    );
    expect(unexplained).toEqual([]);
  });
});

describe('FanoutStack defaults', () => {
  it('runs the event stream on demand and the tables in one region', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      ShardCount: Match.absent(),
    });
    for (const table of Object.values(template.findResources('AWS::DynamoDB::GlobalTable'))) {
      expect(table.Properties.Replicas).toEqual([expect.objectContaining({ Region: TEST_ENV.region })]);
      expect(table.Properties.TableName).toMatch(/^fanout-/);
    }
  });
});
