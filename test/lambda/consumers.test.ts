import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit-types.ts';
import type { UserKey } from '../../src/domain/types.ts';
import { createUnsubscribeTokens } from '../../src/domain/unsubscribe.ts';
import { createEmailConsumerHandler } from '../../src/lambda/email-consumer.ts';
import { FunctionKind, readLambdaEnv } from '../../src/lambda/env.ts';
import { emailNotConfigured } from '../../src/lambda/ports.ts';
import { createPushConsumerHandler } from '../../src/lambda/push-consumer.ts';
import { consenting } from '../support/world.ts';
import {
  captureOutput,
  FIXTURE_ENV,
  fixture,
  harnessesClosedAfterEach,
  lambdaContext,
  metricValues,
  type TestPorts,
} from './support.ts';

const user = (userId: string): UserKey => ({ tenantId: 'acme', userId });

const harness = harnessesClosedAfterEach();

/** Bob consents to everything and has one APNs device, so a push job for him is sent. */
async function bobWithPhone(ports: TestPorts): Promise<void> {
  await ports.preferences.put(consenting(user('bob')));
  await ports.devices.register({
    ...user('bob'),
    token: 'apns-token-bob',
    platform: 'apns',
    registeredAt: 1,
  });
}

describe('push consumer Lambda (SQS, ReportBatchItemFailures)', () => {
  it('sends the job to the user’s device and reports only the poison message for retry', async () => {
    // Prepare
    const h = harness(FunctionKind.PushConsumer);
    const ports = await h.ports();
    await bobWithPhone(ports);
    const event = fixture<SQSEvent>('sqs-push-jobs.json');
    const handler = createPushConsumerHandler(h.deps);
    // Act
    const { result, lines } = await captureOutput(() =>
      handler(event, lambdaContext('fanout-push-consumer')),
    );
    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[1]!.messageId }] });
    expect(ports.pushed.map((m) => [m.userId, m.platform])).toEqual([['bob', 'apns']]);
    expect(metricValues(lines)).toMatchObject({
      'Deliveries{channel=push,outcome=sent}': 1,
      BatchItemFailures: 1,
    });
    expect(JSON.stringify(lines)).not.toContain('apns-token-bob');
  });

  it('answers a redelivered batch from the dedup store: no second send', async () => {
    // Prepare
    const h = harness(FunctionKind.PushConsumer);
    const ports = await h.ports();
    await bobWithPhone(ports);
    const handler = createPushConsumerHandler(h.deps);
    // Act
    const { lines } = await captureOutput(async () => {
      await handler(fixture('sqs-push-jobs.json'), lambdaContext('fanout-push-consumer', 'req-1'));
      await handler(fixture('sqs-push-jobs.json'), lambdaContext('fanout-push-consumer', 'req-2'));
    });
    // Assess
    expect(ports.pushed).toHaveLength(1);
    expect(h.builds()).toBe(1);
    expect(metricValues(lines)).toMatchObject({ 'Deliveries{channel=push,outcome=duplicate}': 1 });
  });
});

describe('email consumer Lambda (SQS, ReportBatchItemFailures)', () => {
  it('sends with a one-click unsubscribe link under the public base URL and keeps the address out of logs', async () => {
    // Prepare
    const h = harness(FunctionKind.EmailConsumer);
    const ports = await h.ports();
    await ports.preferences.put(consenting(user('alice')));
    const event = fixture<SQSEvent>('sqs-email-jobs.json');
    const handler = createEmailConsumerHandler(h.deps);
    // Act
    const { result, lines } = await captureOutput(() =>
      handler(event, lambdaContext('fanout-email-consumer')),
    );
    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[1]!.messageId }] });
    expect(ports.emailed).toHaveLength(1);
    const link = ports.emailed[0]!.headers?.['List-Unsubscribe'] ?? '';
    expect(link).toMatch(/^<https:\/\/api\.fanout\.example\/v1\/unsubscribe\?token=[\w.-]+>$/);
    const token = new URL(link.slice(1, -1)).searchParams.get('token')!;
    expect(createUnsubscribeTokens(FIXTURE_ENV.FANOUT_UNSUBSCRIBE_SECRET!).verify(token)).toMatchObject({
      tenantId: 'acme',
      userId: 'alice',
    });
    expect(metricValues(lines)).toMatchObject({
      'Deliveries{channel=email,outcome=sent}': 1,
      BatchItemFailures: 1,
    });
    expect(JSON.stringify(lines)).not.toContain('alice@example.com');
    expect(lines.some((l) => (l as { message?: string }).message === 'poison delivery message')).toBe(true);
  });

  it('sets no List-Unsubscribe header when FANOUT_PUBLIC_BASE_URL is unset', async () => {
    // Prepare
    const { FANOUT_PUBLIC_BASE_URL: _unset, ...env } = FIXTURE_ENV;
    const h = harness(FunctionKind.EmailConsumer, { env });
    const ports = await h.ports();
    await ports.preferences.put(consenting(user('alice')));
    const handler = createEmailConsumerHandler(h.deps);
    // Act
    await captureOutput(() =>
      handler(fixture('sqs-email-jobs.json'), lambdaContext('fanout-email-consumer')),
    );
    // Assess
    expect(ports.emailed).toHaveLength(1);
    expect(ports.emailed[0]!.headers).toBeUndefined();
  });

  it('starts without a sender and answers each email job failed, email_not_configured, once: no retries, no dead letters', async () => {
    // Prepare: a deployment with neither `sesFrom` nor `sesIdentity`.
    const { FANOUT_SES_FROM: _unset, ...env } = FIXTURE_ENV;
    const audited: AuditEntry[] = [];
    const h = harness(FunctionKind.EmailConsumer, {
      env,
      adjust: (ports) => ({
        ...ports,
        email: emailNotConfigured,
        audit: {
          append: async (entries) => {
            audited.push(...entries);
            await ports.audit.append(entries);
          },
        },
      }),
    });
    const ports = await h.ports();
    await ports.preferences.put(consenting(user('alice')));
    const event = fixture<SQSEvent>('sqs-email-jobs.json');
    const handler = createEmailConsumerHandler(h.deps);
    // Act
    const { result, lines } = await captureOutput(() =>
      handler(event, lambdaContext('fanout-email-consumer')),
    );
    // Assess: only the poison message is reported for retry; the job itself is settled.
    expect(h.deps.env().email.from).toBeUndefined();
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[1]!.messageId }] });
    expect(metricValues(lines)).toMatchObject({ 'Deliveries{channel=email,outcome=failed}': 1 });
    expect(audited.map((e) => [e.outcome, e.reason])).toEqual([['failed', 'email_not_configured']]);
  });

  it('refuses to start without FANOUT_UNSUBSCRIBE_SECRET when links are asked for: no unsigned links', () => {
    const { FANOUT_UNSUBSCRIBE_SECRET: _unset, ...env } = FIXTURE_ENV;
    expect(() => readLambdaEnv(env, FunctionKind.EmailConsumer)).toThrow(
      /FANOUT_UNSUBSCRIBE_SECRET is not set/,
    );
    // Only the email consumer signs links.
    expect(() => readLambdaEnv(env, FunctionKind.PushConsumer)).not.toThrow();
  });
});
