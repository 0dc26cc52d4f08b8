import type { TestProject } from 'vitest/node';
import { type EmulatorEndpoints, startEmulators } from '../../src/runtime/local-aws/emulators.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoints: EmulatorEndpoints;
  }
}

/**
 * Starts the AWS emulators once per test run (DynamoDB Local, kinesalite, fauxqs, SES v2 local,
 * Redis) on free ports; test files reach them through `inject('awsEndpoints')`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulators = await startEmulators();
  project.provide('awsEndpoints', emulators.endpoints);
  return () => emulators.stop();
}
