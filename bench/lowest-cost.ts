import type { PipelineFunction } from '../src/runtime/pipeline.ts';
import { LAMBDA_MEMORY_MB } from './lambda-cost.ts';

/**
 * The lowest-cost configuration as the aws-cost benchmark runs and prices it, and as docs/deploy.md
 * deploys it (context `unreadMode: counter`, `pushDelivery: direct`, `tableBilling: provisioned`,
 * `consumerMemorySize: 512`, `deliveryBatchSize: 100`). test/bench/lowest-cost.test.ts checks it
 * against the CDK app's defaults.
 */
export const LOWEST_COST = {
  /**
   * Messages per consumer invocation (`deliveryBatchSize`): the run's FANOUT_DELIVERY_BATCH. Each
   * carries up to `jobsPerMessage` jobs (10 by default, in both configurations).
   */
  deliveryBatch: 100,
  /** Memory of each function (`consumerMemorySize` for push and email). */
  lambdaMemoryMb: { ...LAMBDA_MEMORY_MB, push: 512, email: 512 } as Readonly<
    Record<PipelineFunction, number>
  >,
  /** Tables on provisioned capacity (the CDK app's DEFAULT_PROVISIONED_TABLES). */
  provisionedTables: ['inbox', 'events'] as readonly string[],
  /** Auto scaling's target utilization (PROVISIONED_DEFAULTS.targetUtilizationPercent). */
  targetUtilization: 0.7,
  /** Floors of each provisioned table and index (PROVISIONED_DEFAULTS), paid every hour. */
  minWriteCapacity: 5,
  minReadCapacity: 5,
  /** Provisioned tables and indexes that pay a floor: inbox, its `unread` index, events. */
  provisionedCapacityHolders: 3,
} as const;
