import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlAuditSink, readAuditLog } from '../../src/adapters/embedded/audit-log.ts';
import type { AuditEntry } from '../../src/domain/audit-types.ts';
import { auditSinkContract } from '../contracts/audit-sink.contract.ts';

auditSinkContract('jsonl', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-audit-'));
  // Small files, so the contract also runs across rotations.
  const sink = new JsonlAuditSink({ dir, maxFileBytes: 2048 });
  return {
    sink,
    async stored() {
      const entries: AuditEntry[] = [];
      for await (const { seq: _seq, prev: _prev, hash: _hash, ...entry } of readAuditLog(dir))
        entries.push(entry);
      return entries;
    },
    async close() {
      sink.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
