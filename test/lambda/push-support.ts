import { FunctionKind, type LambdaEnv, readLambdaEnv } from '../../src/lambda/env.ts';
import { type SettingIssue, SettingsError } from '../../src/lib/settings.ts';
import { FIXTURE_ENV } from './support.ts';

/** Push consumer environments for the tests of the Lambda push wiring. */

/** SNS platform applications (made up). */
export const SNS_APNS = 'arn:aws:sns:us-east-2:123456789012:app/APNS/fanout';
export const SNS_FCM = 'arn:aws:sns:us-east-2:123456789012:app/GCM/fanout';

/** The fixture environment without any push provider. */
const BASE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(FIXTURE_ENV).filter(([name]) => name !== 'FANOUT_SNS_APNS_ARN'),
);

/** The variables of direct APNs, its key in the secret `fanout/apns-key`. */
export const DIRECT_APNS: Readonly<Record<string, string>> = {
  FANOUT_APNS_SECRET_ID: 'fanout/apns-key',
  FANOUT_APNS_KEY_ID: 'ABC123DEFG',
  FANOUT_APNS_TEAM_ID: 'DEF123GHIJ',
  FANOUT_APNS_TOPIC: 'com.example.app',
};

/** The push consumer's environment: the fixture's infrastructure plus `vars`. */
export function env(vars: Readonly<Record<string, string>> = {}): LambdaEnv {
  return readLambdaEnv({ ...BASE, ...vars }, FunctionKind.PushConsumer);
}

/** The issues readLambdaEnv reports for `vars`; fails when it reports none. */
export function envIssues(vars: Readonly<Record<string, string>>): SettingIssue[] {
  try {
    env(vars);
  } catch (err) {
    if (err instanceof SettingsError) return [...err.issues];
    throw err;
  }
  throw new Error('expected a SettingsError');
}
