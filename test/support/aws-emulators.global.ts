import type { TestProject } from 'vitest/node';
import { type EmulatorEndpoints, startEmulators } from '../../src/runtime/local-aws/emulators.ts';
import { startMotoServer } from './moto.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoints: EmulatorEndpoints;
    /** moto_server: SNS platform endpoints, Firehose into S3, Secrets Manager. */
    motoEndpoint: string;
  }
}

/**
 * Starts the AWS emulators once per test run (DynamoDB Local, kinesalite, fauxqs, SES v2 local,
 * Redis, and moto_server) on free ports; test files reach them through `inject('awsEndpoints')`
 * and `inject('motoEndpoint')`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulators = await startEmulators();
  let moto: Awaited<ReturnType<typeof startMotoServer>>;
  try {
    moto = await startMotoServer();
  } catch (err) {
    await emulators.stop();
    throw err;
  }
  project.provide('awsEndpoints', emulators.endpoints);
  project.provide('motoEndpoint', moto.endpoint);
  return async () => {
    await Promise.all([emulators.stop(), moto.stop()]);
  };
}
