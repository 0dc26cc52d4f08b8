import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { verifyAuditLog } from '../../adapters/embedded/audit-log.ts';
import { SetupError } from '../../lib/setup-error.ts';
import { AUDIT_DIR } from '../../runtime/embedded.ts';
import { type CliIo, configFrom, configOptions, parse } from '../args.ts';
import { FILL_DATA_DIR } from '../data-dir.ts';
import { UsageError } from '../usage.ts';

export const AUDIT_HELP = `Usage: fanout audit verify [--data-dir DIR] [--json]

Verifies the hash chain of the audit log in <data dir>/audit: every record links to the one
before it and its hash matches its content. Exit 0 when valid, 1 when broken (the sequence
number and file where it breaks are printed).

Options:
  --data-dir DIR   FANOUT_DATA_DIR (default ./.fanout)
  --json           print one JSON object
  -h, --help       show this help
`;

const OPTIONS = { ...configOptions(['data-dir']), json: { type: 'boolean' } } as const;

/** `fanout audit verify`. */
export async function auditCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, true);
  if (values.help) {
    io.stdout(AUDIT_HELP);
    return 0;
  }
  const [sub, ...rest] = positionals;
  if (sub !== 'verify')
    throw new UsageError(`audit: expected 'verify'${sub === undefined ? '' : `, not '${sub}'`}`);
  if (rest.length > 0) throw new UsageError(`audit verify: unexpected argument '${rest[0]}'`);
  const config = configFrom(values, io.env);
  const dir = join(config.dataDir, AUDIT_DIR);
  if (!existsSync(dir)) {
    throw new SetupError(
      `no audit log in ${dir}`,
      `the pipeline writes it as it decides deliveries: ${FILL_DATA_DIR}`,
    );
  }
  const result = await verifyAuditLog(dir);
  if (values.json) {
    io.stdout(`${JSON.stringify(result)}\n`);
  } else if (result.valid) {
    io.stdout(`audit chain valid: ${result.records} records\n`);
  } else {
    const where = [
      result.brokenAtSeq === undefined ? undefined : `seq ${result.brokenAtSeq}`,
      result.file === undefined ? undefined : `file ${result.file}`,
    ].filter((part) => part !== undefined);
    io.stdout(
      `audit chain BROKEN at ${where.join(', ') || 'an unknown place'}: ${result.reason ?? 'no reason given'} ` +
        `(${result.records} records verified before it)\n`,
    );
  }
  return result.valid ? 0 : 1;
}
