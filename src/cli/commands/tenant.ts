import { join } from 'node:path';
import { EmbeddedDb } from '../../adapters/embedded/db.ts';
import { EmbeddedTenants } from '../../adapters/embedded/tenants.ts';
import { isValidId } from '../../domain/event.ts';
import { hashApiKey, newApiKey } from '../../http/auth.ts';
import { makePrivateDir } from '../../lib/private-files.ts';
import type { Tenants } from '../../ports/tenants.ts';
import { DB_FILE } from '../../runtime/embedded.ts';
import { type CliIo, configFrom, configOptions, parse } from '../args.ts';
import { UsageError } from '../usage.ts';

export const TENANT_HELP = `Usage: fanout tenant create <tenantId> [--json]
       fanout tenant list [--json]

create   makes a tenant and prints its new API key. The key is shown this once: only its
         SHA-256 is stored. Tenant ids are 1..64 of [A-Za-z0-9._-].
list     prints every tenant and when it was created.

Options:
  --data-dir DIR   FANOUT_DATA_DIR (default ./.fanout)
  --json           print one JSON object
  -h, --help       show this help
`;

const OPTIONS = { ...configOptions(['data-dir']), json: { type: 'boolean' } } as const;
/** Narrower than other ids: a tenant id is part of every key and of the API key's text. */
const TENANT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** `fanout tenant create|list`. */
export async function tenantCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, true);
  if (values.help) {
    io.stdout(TENANT_HELP);
    return 0;
  }
  const [sub, ...rest] = positionals;
  if (sub !== 'create' && sub !== 'list') {
    throw new UsageError(`tenant: expected 'create' or 'list'${sub === undefined ? '' : `, not '${sub}'`}`);
  }
  const tenantId = sub === 'create' ? rest.shift() : undefined;
  if (sub === 'create' && (tenantId === undefined || !isValidTenantId(tenantId))) {
    throw new UsageError('tenant create: expected a tenant id, 1..64 of [A-Za-z0-9._-]');
  }
  if (rest.length > 0) throw new UsageError(`tenant ${sub}: unexpected argument '${rest[0]}'`);
  const config = configFrom(values, io.env);
  makePrivateDir(config.dataDir);
  const db = new EmbeddedDb({ path: join(config.dataDir, DB_FILE) });
  try {
    const tenants = new EmbeddedTenants({ db });
    if (tenantId !== undefined) {
      const { apiKey } = await createTenant(tenants, tenantId, Date.now());
      io.stdout(
        values.json
          ? `${JSON.stringify({ tenantId, apiKey })}\n`
          : `tenant ${tenantId} created\napi key (shown once): ${apiKey}\n`,
      );
    } else {
      const list = await tenants.list();
      const rows = list.map((t) => ({
        tenantId: t.tenantId,
        createdAt: new Date(t.createdAt).toISOString(),
      }));
      io.stdout(
        values.json
          ? `${JSON.stringify({ tenants: rows })}\n`
          : rows.map((r) => `${r.tenantId}\t${r.createdAt}\n`).join('') || 'no tenants\n',
      );
    }
    return 0;
  } finally {
    db.close();
  }
}

export function isValidTenantId(value: string): boolean {
  return TENANT_ID.test(value) && isValidId(value);
}

/** Creates a tenant with a new key; the key is returned once and only its hash is stored. */
export async function createTenant(
  tenants: Tenants,
  tenantId: string,
  at: number,
): Promise<{ readonly tenantId: string; readonly apiKey: string }> {
  const apiKey = newApiKey(tenantId);
  await tenants.create(tenantId, hashApiKey(apiKey), at);
  return { tenantId, apiKey };
}
