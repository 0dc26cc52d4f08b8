import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** A secret given as itself, by complete ARN (`arn:…`), or by name. */
export function secretRef(
  scope: Construct,
  id: string,
  secret: secretsmanager.ISecret | string,
): secretsmanager.ISecret {
  if (typeof secret !== 'string') return secret;
  return secret.startsWith('arn:')
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, secret)
    : secretsmanager.Secret.fromSecretNameV2(scope, id, secret);
}

/** What GetSecretValue is given: the full ARN when known, else the name (an imported secret's ARN ends in `-??????`). */
export function secretId(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? secret.secretName;
}
