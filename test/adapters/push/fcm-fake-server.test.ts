import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeFcm, generateServiceAccount, startFakeFcm } from '../../../fakes/fake-fcm.ts';
import { signAssertion } from '../../../src/adapters/push/fcm/access-token.ts';
import { parseServiceAccount, type ServiceAccount } from '../../../src/adapters/push/fcm/service-account.ts';
import { Http2Pool } from '../../../src/adapters/push/http2-pool.ts';

/** The fake FCM itself: it must refuse what Google refuses, or the transport tests prove nothing. */

let fake: FakeFcm;
let account: ServiceAccount;
let pool: Http2Pool;

beforeAll(async () => {
  fake = await startFakeFcm();
  account = parseServiceAccount(generateServiceAccount(fake.origin).json);
  pool = new Http2Pool({ origin: fake.origin, ca: fake.ca, size: 1 });
});

afterAll(async () => {
  await pool.close();
  await fake.close();
});

/** One token request over HTTPS/1.1, as the transport makes it. */
async function grant(
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(`${fake.origin}/token`, {
      method: 'POST',
      ca: fake.ca,
      agent: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
      );
    });
    req.end(new URLSearchParams(form).toString());
  });
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

async function accessToken(): Promise<string> {
  const answer = await grant({ grant_type: JWT_BEARER, assertion: signAssertion(account, Date.now()) });
  return answer.body.access_token as string;
}

async function send(body: unknown, token: string, path = `/v1/projects/${account.projectId}/messages:send`) {
  const res = await pool.request({
    method: 'POST',
    path,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: JSON.parse(res.body) };
}

describe('fake FCM: token endpoint', () => {
  it('issues an access token for a well-signed assertion and records the grant with its kid', async () => {
    // Act
    const answer = await grant({ grant_type: JWT_BEARER, assertion: signAssertion(account, Date.now()) });
    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(fake.tokenGrants.at(-1)).toMatchObject({
      accessToken: answer.body.access_token,
      kid: account.privateKeyId,
    });
  });

  it('refuses an assertion signed with another key, for another audience, or too old', async () => {
    // Prepare
    const otherKey = parseServiceAccount(generateServiceAccount(fake.origin, { freshKey: true }).json);
    const otherAudience = { ...account, tokenUri: 'https://oauth2.googleapis.com/token' };
    const assertions = [
      signAssertion(otherKey, Date.now()),
      signAssertion(otherAudience, Date.now()),
      signAssertion(account, Date.now() - 2 * 3600_000),
    ];
    // Act
    const answers = await Promise.all(
      assertions.map((assertion) => grant({ grant_type: JWT_BEARER, assertion })),
    );
    // Assess
    expect(answers.map((a) => [a.status, a.body.error])).toEqual([
      [400, 'invalid_grant'],
      [400, 'invalid_grant'],
      [400, 'invalid_grant'],
    ]);
  });

  it('refuses another grant type', async () => {
    // Act
    const answer = await grant({
      grant_type: 'client_credentials',
      assertion: signAssertion(account, Date.now()),
    });
    // Assess
    expect([answer.status, answer.body.error]).toEqual([400, 'unsupported_grant_type']);
  });
});

describe('fake FCM: send endpoint', () => {
  const message = { token: 'device-1', notification: { title: 't', body: 'b' }, data: { a: '1' } };

  it('answers 200 with a message name to a valid request', async () => {
    // Act
    const answer = await send({ message }, await accessToken());
    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.name).toMatch(/^projects\/fanout-test\/messages\/.+/);
  });

  it('answers 401 UNAUTHENTICATED to an unknown or revoked access token', async () => {
    // Prepare
    const token = await accessToken();
    // Act
    const unknown = await send({ message }, 'ya29.not-issued');
    fake.revokeAccessTokens();
    const revoked = await send({ message }, token);
    // Assess
    expect([unknown.status, unknown.body.error.status]).toEqual([401, 'UNAUTHENTICATED']);
    expect([revoked.status, revoked.body.error.status]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('answers 404 for another project and 400 with the field for a bad shape', async () => {
    // Prepare
    const token = await accessToken();
    // Act
    const otherProject = await send({ message }, token, '/v1/projects/someone-else/messages:send');
    const numberData = await send({ message: { ...message, data: { a: 1 } } }, token);
    const badTtl = await send({ message: { ...message, android: { ttl: '3600' } } }, token);
    const twoTargets = await send({ message: { ...message, topic: 'news' } }, token);
    // Assess
    expect(otherProject.status).toBe(404);
    expect(numberData.status).toBe(400);
    expect(numberData.body.error.details[0].fieldViolations[0].field).toBe('message.data[a].value');
    expect(badTtl.body.error.details[0].fieldViolations[0].field).toBe('message.android.ttl');
    expect(twoTargets.body.error.details[0].fieldViolations[0].field).toBe('message');
  });

  it('plays scripted replies for a token once each, in order, with FCM error details', async () => {
    // Prepare
    fake.script('device-2', { status: 404, errorCode: 'UNREGISTERED' }, { status: 429, retryAfter: '7' });
    const token = await accessToken();
    const to2 = { message: { ...message, token: 'device-2' } };
    // Act
    const first = await send(to2, token);
    const second = await pool.request({
      method: 'POST',
      path: `/v1/projects/${account.projectId}/messages:send`,
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(to2),
    });
    const third = await send(to2, token);
    // Assess
    expect(first.status).toBe(404);
    expect(first.body.error.details).toEqual([
      { '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' },
    ]);
    expect([second.status, second.headers['retry-after']]).toEqual([429, '7']);
    expect(third.status).toBe(200);
  });
});
