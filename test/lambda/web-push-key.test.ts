import { describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { FunctionKind } from '../../src/lambda/env.ts';
import { createInboxApiHandler } from '../../src/lambda/inbox-api.ts';
import {
  captureOutput,
  FIXTURE_ENV,
  fixture,
  harnessesClosedAfterEach,
  lambdaContext,
  userRequest,
} from './support.ts';

const harness = harnessesClosedAfterEach();

const keyRequest = () => userRequest('ana', '/v1/me/webpush/vapid-public-key');

describe('inbox API Lambda: the web push key', () => {
  it('serves FANOUT_VAPID_PUBLIC_KEY to a signed-in user', async () => {
    // Prepare
    const { publicKey } = webpush.generateVAPIDKeys();
    const h = harness(FunctionKind.InboxApi, { env: { ...FIXTURE_ENV, FANOUT_VAPID_PUBLIC_KEY: publicKey } });
    // Act
    const { result } = await captureOutput(() =>
      createInboxApiHandler(h.deps)(keyRequest(), lambdaContext('fanout-inbox-api')),
    );
    // Assess
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? '')).toEqual({ publicKey });
  });

  it('answers 404 without it, and 404 with a warning, the rest of the API serving, for a value that is no key', async () => {
    // Act
    const none = harness(FunctionKind.InboxApi);
    const bad = harness(FunctionKind.InboxApi, {
      env: { ...FIXTURE_ENV, FANOUT_VAPID_PUBLIC_KEY: 'not-a-key' },
    });
    const { result: withoutKey } = await captureOutput(() =>
      createInboxApiHandler(none.deps)(keyRequest(), lambdaContext('fanout-inbox-api')),
    );
    const { result: withBadKey, lines } = await captureOutput(() =>
      createInboxApiHandler(bad.deps)(keyRequest(), lambdaContext('fanout-inbox-api')),
    );
    const { result: inbox } = await captureOutput(() =>
      createInboxApiHandler(bad.deps)(fixture('apigw-v2-get-inbox.json'), lambdaContext('fanout-inbox-api')),
    );
    // Assess
    expect(withoutKey.statusCode).toBe(404);
    expect(withBadKey.statusCode).toBe(404);
    expect(JSON.stringify(lines)).toContain('FANOUT_VAPID_PUBLIC_KEY is no VAPID public key');
    expect(inbox.statusCode).toBe(200);
  });
});
