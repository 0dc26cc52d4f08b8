import { describe, expect, it } from 'vitest';
import { configuresPush } from '../../src/runtime/push/lambda.ts';
import { DIRECT_APNS, env, envIssues, SNS_APNS, SNS_FCM } from './push-support.ts';

describe('readLambdaEnv: direct push variables', () => {
  it('reads direct APNs, the FCM secret and the providers secret, production by default', () => {
    // Prepare, Act
    const e = env({
      ...DIRECT_APNS,
      FANOUT_FCM_SECRET_ID: 'fanout/fcm-account',
      FANOUT_PUSH_PROVIDERS_SECRET_ID: 'fanout/push-providers',
    });
    // Assess
    expect(e.directPush).toEqual({
      apns: {
        secretId: 'fanout/apns-key',
        keyId: 'ABC123DEFG',
        teamId: 'DEF123GHIJ',
        topic: 'com.example.app',
        environment: 'production',
      },
      fcmSecretId: 'fanout/fcm-account',
      providersSecretId: 'fanout/push-providers',
    });
    expect(env().directPush).toEqual({});
  });

  it('takes sandbox and refuses any other APNs environment', () => {
    // Prepare, Act
    const sandbox = env({ ...DIRECT_APNS, FANOUT_APNS_ENVIRONMENT: 'sandbox' });
    const issues = envIssues({ ...DIRECT_APNS, FANOUT_APNS_ENVIRONMENT: 'development' });
    // Assess
    expect(sandbox.directPush.apns?.environment).toBe('sandbox');
    expect(issues).toEqual([
      { variable: 'FANOUT_APNS_ENVIRONMENT', message: "must be 'production' or 'sandbox'" },
    ]);
  });

  it('refuses FANOUT_APNS_ENVIRONMENT alone, as the embedded mode does: it selects nothing by itself', () => {
    // Prepare, Act
    const issues = envIssues({ FANOUT_APNS_ENVIRONMENT: 'sandbox' });
    // Assess
    expect(issues.map((i) => i.variable)).toEqual([
      'FANOUT_APNS_SECRET_ID',
      'FANOUT_APNS_KEY_ID',
      'FANOUT_APNS_TEAM_ID',
      'FANOUT_APNS_TOPIC',
    ]);
  });

  it('names each missing variable of a partial APNs set', () => {
    // Prepare
    const { FANOUT_APNS_TEAM_ID: _team, FANOUT_APNS_SECRET_ID: _secret, ...partial } = DIRECT_APNS;
    // Act
    const issues = envIssues(partial);
    // Assess
    expect(issues).toEqual([
      { variable: 'FANOUT_APNS_SECRET_ID', message: 'must be set with the other FANOUT_APNS_* variables' },
      { variable: 'FANOUT_APNS_TEAM_ID', message: 'must be set with the other FANOUT_APNS_* variables' },
    ]);
  });

  it('refuses SNS and direct credentials for the same platform, and allows one of each per platform', () => {
    // Prepare, Act
    const apnsTwice = envIssues({ ...DIRECT_APNS, FANOUT_SNS_APNS_ARN: SNS_APNS });
    const fcmTwice = envIssues({ FANOUT_FCM_SECRET_ID: 'fanout/fcm', FANOUT_SNS_FCM_ARN: SNS_FCM });
    const mixed = env({ ...DIRECT_APNS, FANOUT_SNS_FCM_ARN: SNS_FCM });
    // Assess
    expect(apnsTwice).toEqual([
      { variable: 'FANOUT_APNS_SECRET_ID', message: 'and FANOUT_SNS_APNS_ARN exclude each other' },
    ]);
    expect(fcmTwice).toEqual([
      { variable: 'FANOUT_FCM_SECRET_ID', message: 'and FANOUT_SNS_FCM_ARN exclude each other' },
    ]);
    expect(mixed.push).toEqual({ fcmApplicationArn: SNS_FCM });
    expect(mixed.directPush.apns?.secretId).toBe('fanout/apns-key');
  });
});

describe('configuresPush', () => {
  it('is true as soon as one push provider is named, false without any', () => {
    // Prepare
    const each: Record<string, string>[] = [
      { FANOUT_SNS_APNS_ARN: SNS_APNS },
      { FANOUT_SNS_FCM_ARN: SNS_FCM },
      DIRECT_APNS,
      { FANOUT_FCM_SECRET_ID: 'fanout/fcm' },
      { FANOUT_PUSH_PROVIDERS_SECRET_ID: 'fanout/providers' },
    ];
    // Act, Assess
    expect(configuresPush(env())).toBe(false);
    for (const vars of each) expect(configuresPush(env(vars)), Object.keys(vars)[0]).toBe(true);
  });
});
