import { readAuditLog, verifyAuditLog } from '../../adapters/embedded/audit-log.ts';
import type { TransportStats } from '../../adapters/embedded/recording-transports.ts';
import type { AuditEntry } from '../../domain/audit-types.ts';
import type { Ports } from '../../ports/ports.ts';
import { type EmbeddedPorts, refreshPlannerStatistics } from '../../runtime/embedded.ts';
import { fannedOutEvents, type StoreCounts, storeCounts } from '../../runtime/embedded-stats.ts';
import { DemoState, sqliteStateStore } from './state.ts';

/**
 * What the demo needs from a profile beyond its ports: where to keep its own progress, and how to
 * read totals back from durable state. The embedded profile answers from SQLite and the JSONL
 * audit log; the local-aws profile from DynamoDB, S3 and the SES emulator.
 */
export interface DemoBackend {
  readonly ports: Ports;
  readonly state: DemoState;
  /** Called once seeding is done (the embedded store refreshes its planner statistics). */
  afterSeed(): void;
  /** Events fan-out has checkpointed past, for the progress bar; undefined when unknown. */
  fannedOutEvents(): Promise<number | undefined>;
  storeCounts(tenantId: string): Promise<StoreCounts>;
  /** Every audit decision recorded so far. */
  auditEntries(): AsyncIterable<AuditEntry>;
  /** Whether the audit trail verifies; null where the store itself guards it (S3 Object Lock). */
  auditChainValid(): Promise<boolean | null>;
  /** What the transports saw: sends, ambiguous re-sends and double sends. */
  transportStats(): Promise<{ readonly push: TransportStats; readonly email: TransportStats }>;
  close(): Promise<void>;
}

/** The embedded profile's backend: one SQLite file and a JSONL audit log. */
export function embeddedBackend(ports: EmbeddedPorts): DemoBackend {
  return {
    ports,
    state: new DemoState(sqliteStateStore(ports.db)),
    afterSeed: () => refreshPlannerStatistics(ports.db),
    fannedOutEvents: async () => fannedOutEvents(ports.db),
    storeCounts: async (tenantId) => storeCounts(ports.db, tenantId),
    auditEntries: () => readAuditLog(ports.auditDir),
    auditChainValid: async () => (await verifyAuditLog(ports.auditDir)).valid,
    transportStats: async () => {
      const [push, email] = await Promise.all([ports.pushSink.stats(), ports.emailSink.stats()]);
      return { push, email };
    },
    close: () => ports.close(),
  };
}
