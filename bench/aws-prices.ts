/**
 * The AWS list prices the aws-cost benchmark turns counted requests into dollars with. One file,
 * one date: re-check against the pages below before quoting a figure, since AWS changes them.
 *
 * Region: us-east-1 (N. Virginia). Read on 2026-11-25 from the AWS pricing pages:
 * - DynamoDB on-demand (since the 2024-11-01 reduction): aws.amazon.com/dynamodb/pricing/on-demand/
 * - SQS: aws.amazon.com/sqs/pricing/ (Standard queue requests, each 64 KiB chunk of a payload)
 * - SNS: aws.amazon.com/sns/pricing/ (API requests; mobile push deliveries)
 * - Kinesis Data Streams provisioned mode: aws.amazon.com/kinesis/data-streams/pricing/
 *   (PUT payload units of 25 KiB; shard-hours are a fixed cost, left out per notification)
 * - Firehose: aws.amazon.com/firehose/pricing/ (ingestion, records rounded up to 5 KiB)
 * - SES: aws.amazon.com/ses/pricing/ (outbound email)
 *
 * Added on 2026-12-07 (same region, on-demand, before free tiers and Savings Plans):
 * - Lambda: aws.amazon.com/lambda/pricing/ (Arm: GB-seconds of the first 7.5 billion a month;
 *   requests)
 * - ElastiCache: aws.amazon.com/elasticache/pricing/ (node-hours of cache.r7g.large; serverless
 *   Valkey's data stored, billed at a 100 MB minimum)
 * - MemoryDB: aws.amazon.com/memorydb/pricing/ (node-hours of db.r7g.large)
 * - DynamoDB Global Tables: replicated write request units, on-demand (equal to single-region
 *   writes since the 2024-11-01 reduction); cross-region data transfer per GB
 *
 * Added on 2026-12-07 (same region):
 * - DynamoDB provisioned capacity: aws.amazon.com/dynamodb/pricing/provisioned/ (WCU-hours and
 *   RCU-hours; $0.0065 per 10 WCU and per 50 RCU an hour, unchanged by the 2024-11-01 on-demand
 *   reduction), for tables of the lowest-cost configuration (bench/dynamo-provisioned.ts)
 *
 * Fixed costs (node-hours, shard-hours, provisioned capacity's floor) are reported apart from the per-notification figure as
 * dollars a month. Left out: storage, data transfer within the region and free tiers.
 */
export const AWS_PRICES = {
  asOf: '2026-11-25',
  region: 'us-east-1',
  /** $ per million DynamoDB write request units (on-demand). */
  dynamoWriteUnitsPerMillion: 0.625,
  /** $ per million DynamoDB read request units (on-demand). */
  dynamoReadUnitsPerMillion: 0.125,
  /** $ per provisioned write capacity unit-hour (one write of up to 1 KB a second, for an hour). */
  dynamoProvisionedWcuHour: 0.00065,
  /** $ per provisioned read capacity unit-hour (one strongly consistent read of up to 4 KB a second). */
  dynamoProvisionedRcuHour: 0.00013,
  /** $ per million SQS Standard requests. */
  sqsRequestsPerMillion: 0.4,
  /** $ per million SNS API requests (Publish, CreatePlatformEndpoint, …). */
  snsRequestsPerMillion: 0.5,
  /** $ per million SNS mobile push deliveries. */
  snsMobilePushPerMillion: 0.5,
  /** $ per million Kinesis PUT payload units (25 KiB each). */
  kinesisPutUnitsPerMillion: 0.014,
  /** $ per GB ingested by Firehose, each record rounded up to 5 KiB. */
  firehosePerGb: 0.029,
  /** $ per thousand emails sent through SES. */
  sesPerThousand: 0.1,
  /** $ per GB-second of Lambda on Arm (Graviton), the architecture every function runs on. */
  lambdaArmPerGbSecond: 0.0000133334,
  /** $ per million Lambda invocations. */
  lambdaRequestsPerMillion: 0.2,
  /** $ per Kinesis shard-hour (provisioned mode). */
  kinesisShardHour: 0.015,
  /** $ per MemoryDB db.r7g.large node-hour (the dedup store's default node type). */
  memoryDbR7gLargeHour: 0.3717,
  /** $ per ElastiCache cache.r7g.large node-hour (`cacheMode: nodes`). */
  elastiCacheR7gLargeHour: 0.219,
  /** $ per GB-hour of data stored in ElastiCache Serverless for Valkey (minimum 100 MB). */
  elastiCacheServerlessValkeyGbHour: 0.0837,
  /** $ per million replicated write request units of a Global Table replica (on-demand). */
  dynamoReplicatedWriteUnitsPerMillion: 0.625,
  /** $ per GB sent from one region to another (replication traffic of a Global Table). */
  interRegionTransferPerGb: 0.02,
} as const;

/** Hours in the average month, as AWS's monthly estimates count them. */
export const HOURS_PER_MONTH = 730;
