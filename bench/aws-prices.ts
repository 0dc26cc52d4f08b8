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
 * Left out on purpose, because they do not scale with notifications: Lambda compute (depends on
 * memory and duration, not counted here), ElastiCache / MemoryDB node-hours, Kinesis shard-hours,
 * storage, data transfer and free tiers.
 */
export const AWS_PRICES = {
  asOf: '2026-11-25',
  region: 'us-east-1',
  /** $ per million DynamoDB write request units (on-demand). */
  dynamoWriteUnitsPerMillion: 0.625,
  /** $ per million DynamoDB read request units (on-demand). */
  dynamoReadUnitsPerMillion: 0.125,
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
} as const;
