import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { Channel, Outcome } from '../domain/types.ts';
import type { Logger } from '../ports/logger.ts';
import type { Ports } from '../ports/ports.ts';
import { withOverrides } from '../runtime/with-overrides.ts';
import { type FunctionKind, type LambdaEnv, processEnv } from './env.ts';
import { awsPortsFactory, portsOnce } from './ports.ts';

/** The CloudWatch namespace of every Fanout metric; each function is a `service` dimension in it. */
export const METRICS_NAMESPACE = 'Fanout';

/** The counters the functions publish (EMF, unit Count). */
export const MetricName = {
  /** Kinesis records fanned out (not counting undecodable ones, nor the retried tail of a batch). */
  EventsFannedOut: 'EventsFannedOut',
  /** Kinesis records that could never be decoded: logged and skipped. */
  UndecodableRecords: 'UndecodableRecords',
  InboxRowsWritten: 'InboxRowsWritten',
  DeliveryJobsQueued: 'DeliveryJobsQueued',
  /** Delivery decisions, with `channel` and `outcome` dimensions: one per audit record. */
  Deliveries: 'Deliveries',
  /** Records handed back to the event source for retry (partial batch response). */
  BatchItemFailures: 'BatchItemFailures',
  PreferencesInvalidated: 'PreferencesInvalidated',
  /** Dead letters the dead-letter audit found with no `dead_lettered` record, and recorded. */
  DeadLettersAudited: 'DeadLettersAudited',
  /** Email digests sent by the digest sender (one per user and period). */
  EmailDigestsSent: 'EmailDigestsSent',
  /** Events the Event API made durable for the first time (idempotent repeats are not counted). */
  EventsAccepted: 'EventsAccepted',
  HttpRequests: 'HttpRequests',
  HttpClientErrors: 'HttpClientErrors',
  HttpServerErrors: 'HttpServerErrors',
  /** Requests the app refused for a missing, wrong or expired credential (401). */
  AuthFailures: 'AuthFailures',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

/** What every entry point is built from. Tests pass embedded ports; `defaultDeps` is what AWS runs. */
export interface LambdaDeps {
  /** This function's environment, validated (read once). */
  readonly env: () => LambdaEnv;
  /** This container's ports, built once (see `portsOnce`). */
  readonly ports: () => Promise<Ports>;
  readonly logger: PowertoolsLogger;
  readonly metrics: Metrics;
}

/**
 * Our Logger port over Powertools Logger: one structured JSON line per call, with the Lambda
 * context keys (`function_request_id`, `cold_start`, …) that `addContext` sets per invocation.
 * Callers pass ids and counts only (see the port); nothing here adds an event or a payload.
 */
export function powertoolsLogger(logger: PowertoolsLogger): Logger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, attributes?: Readonly<Record<string, unknown>>): void => {
      if (attributes === undefined) logger[level](message);
      else logger[level](message, { ...attributes });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The Powertools Logger and Metrics of one function: service `fanout-<kind>`, namespace `Fanout`. */
export function powertools(kind: FunctionKind): { logger: PowertoolsLogger; metrics: Metrics } {
  const serviceName = `fanout-${kind}`;
  return {
    // The level comes from POWERTOOLS_LOG_LEVEL (or the function's log-level setting), read by Powertools.
    logger: new PowertoolsLogger({ serviceName }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName }),
  };
}

/** What the CDK app's functions run: AWS ports from the process environment. */
export function defaultDeps(kind: FunctionKind): LambdaDeps {
  const { logger, metrics } = powertools(kind);
  const env = processEnv(kind);
  return { env, logger, metrics, ports: portsOnce(awsPortsFactory(powertoolsLogger(logger)), env) };
}

/**
 * Counts of one invocation, published once at its end: one EMF value per metric rather than one
 * per batch call, and the delivery counts as one line per (channel, outcome).
 */
export class InvocationCounters {
  readonly #counts = new Map<MetricName, number>();
  readonly #deliveries = new Map<string, { channel: Channel; outcome: Outcome; count: number }>();

  /** Adds `n` to a counter; a counter set to 0 is still published (a zero is a data point). */
  add(name: MetricName, n: number): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + n);
  }

  delivery(channel: Channel, outcome: Outcome): void {
    const key = `${channel}\u0000${outcome}`;
    const entry = this.#deliveries.get(key);
    if (entry === undefined) this.#deliveries.set(key, { channel, outcome, count: 1 });
    else entry.count++;
  }

  /** Moves the counts into `metrics` (published with `publishStoredMetrics`) and starts afresh. */
  flushInto(metrics: Metrics): void {
    for (const [name, value] of this.#counts) metrics.addMetric(name, MetricUnit.Count, value);
    // A single metric is published at once with its own dimensions, apart from the stored ones.
    for (const { channel, outcome, count } of this.#deliveries.values()) {
      metrics
        .singleMetric()
        .addDimensions({ channel, outcome })
        .addMetric(MetricName.Deliveries, MetricUnit.Count, count);
    }
    this.#counts.clear();
    this.#deliveries.clear();
  }
}

/**
 * The ports with counting writes: inbox rows, queued delivery jobs, accepted events and audit
 * decisions are counted after each write succeeds. The handlers are unchanged; they are given
 * these ports.
 */
export function countingPorts(ports: Ports, counters: InvocationCounters): Ports {
  const { inbox, queues, log, audit } = ports;
  const countingQueue = (channel: Channel) =>
    withOverrides(queues[channel], {
      // The options carry the delays of deferred jobs: dropping them would re-deliver a job held
      // back by quiet hours at once, again and again until the window ends.
      async sendBatch(jobs, opts) {
        await queues[channel].sendBatch(jobs, opts);
        counters.add(MetricName.DeliveryJobsQueued, jobs.length);
      },
    });
  return {
    ...ports,
    inbox: withOverrides(inbox, {
      async putMany(rows) {
        await inbox.putMany(rows);
        counters.add(MetricName.InboxRowsWritten, rows.length);
      },
    }),
    queues: { push: countingQueue('push'), email: countingQueue('email') },
    log: withOverrides(log, {
      async append(events) {
        const results = await log.append(events);
        counters.add(MetricName.EventsAccepted, results.filter((r) => r.fresh).length);
        return results;
      },
    }),
    audit: withOverrides(audit, {
      async append(entries) {
        await audit.append(entries);
        for (const e of entries) counters.delivery(e.channel, e.outcome);
      },
    }),
  };
}

/** One function's runtime: its logger port, counted ports, and the per-invocation wrapper. */
export interface LambdaRuntime {
  readonly logger: Logger;
  readonly counters: InvocationCounters;
  /** The container's ports with counting writes (wrapped once per ports object). */
  ports(): Promise<Ports>;
  /**
   * Wraps a handler: Lambda context on every log line, the cold-start metric, and the stored
   * metrics published at the end of every invocation, whether it returned or threw.
   */
  wrap<E, R>(handle: (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R>;
}

/** Builds the runtime of one entry point from its deps. */
export function lambdaRuntime(deps: LambdaDeps): LambdaRuntime {
  const counters = new InvocationCounters();
  const logger = powertoolsLogger(deps.logger);
  let counted: { readonly from: Ports; readonly to: Ports } | undefined;
  return {
    logger,
    counters,
    async ports() {
      const ports = await deps.ports();
      if (counted?.from !== ports) counted = { from: ports, to: countingPorts(ports, counters) };
      return counted.to;
    },
    wrap(handle) {
      return async (event, context) => {
        deps.logger.addContext(context);
        deps.metrics.captureColdStartMetric(context.functionName);
        try {
          return await handle(event, context);
        } finally {
          counters.flushInto(deps.metrics);
          deps.metrics.publishStoredMetrics();
        }
      };
    },
  };
}
