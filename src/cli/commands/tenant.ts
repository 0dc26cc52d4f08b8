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
       fanout tenant key create <tenantId> [--json]
       fanout tenant key list <tenantId> [--json]
       fanout tenant key revoke <tenantId> <keyId> [--json]

create       makes a tenant and prints its new API key. The key is shown this once: only its
             SHA-256 is stored. Tenant ids are 1..64 of [A-Za-z0-9._-].
list         prints every tenant and when it was created.
key create   adds an API key to a tenant (shown once); its other keys keep working, so clients
             move to the new key before the old one is revoked.
key list     prints the tenant's live keys: their ids (16 hex digits) and creation times.
key revoke   revokes one key by id; it fails from the next request on, in a running service
             too. The last key of a tenant cannot be revoked: create its successor first.

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
  if (sub === 'key') return keyCommand(rest, values, io);
  if (sub !== 'create' && sub !== 'list') {
    throw new UsageError(
      `tenant: expected 'create', 'list' or 'key'${sub === undefined ? '' : `, not '${sub}'`}`,
    );
  }
  const tenantId = sub === 'create' ? rest.shift() : undefined;
  if (sub === 'create' && (tenantId === undefined || !isValidTenantId(tenantId))) {
    throw new UsageError('tenant create: expected a tenant id, 1..64 of [A-Za-z0-9._-]');
  }
  if (rest.length > 0) throw new UsageError(`tenant ${sub}: unexpected argument '${rest[0]}'`);
  return withTenants(values, io, async (tenants) => {
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
  });
}

type Values = ReturnType<typeof parse>['values'];

/** `fanout tenant key create|list|revoke`. */
async function keyCommand(args: readonly string[], values: Values, io: CliIo): Promise<number> {
  const [action, tenantId, keyId, ...extra] = args;
  if (action !== 'create' && action !== 'list' && action !== 'revoke') {
    throw new UsageError(
      `tenant key: expected 'create', 'list' or 'revoke'${action === undefined ? '' : `, not '${action}'`}`,
    );
  }
  if (tenantId === undefined || !isValidTenantId(tenantId)) {
    throw new UsageError(`tenant key ${action}: expected a tenant id, 1..64 of [A-Za-z0-9._-]`);
  }
  if (action === 'revoke' && (keyId === undefined || !/^[0-9a-f]{16}$/.test(keyId))) {
    throw new UsageError(
      'tenant key revoke: expected a key id, 16 hex digits (see `fanout tenant key list`)',
    );
  }
  const unexpected = action === 'revoke' ? extra[0] : keyId;
  if (unexpected !== undefined)
    throw new UsageError(`tenant key ${action}: unexpected argument '${unexpected}'`);
  return withTenants(values, io, async (tenants) => {
    if (action === 'create') {
      const apiKey = newApiKey(tenantId);
      const hash = hashApiKey(apiKey);
      await tenants.addApiKey(tenantId, hash, Date.now());
      const id = hash.slice(0, 16);
      io.stdout(
        values.json
          ? `${JSON.stringify({ tenantId, keyId: id, apiKey })}\n`
          : `key ${id} added to tenant ${tenantId}\napi key (shown once): ${apiKey}\n`,
      );
    } else if (action === 'list') {
      const keys = (await tenants.listApiKeys(tenantId)).map((k) => ({
        keyId: k.keyId,
        createdAt: new Date(k.createdAt).toISOString(),
      }));
      io.stdout(
        values.json
          ? `${JSON.stringify({ tenantId, keys })}\n`
          : keys.map((k) => `${k.keyId}\t${k.createdAt}\n`).join(''),
      );
    } else {
      await tenants.revokeApiKey(tenantId, keyId!);
      io.stdout(values.json ? `${JSON.stringify({ tenantId, revoked: keyId })}\n` : `key ${keyId} revoked\n`);
    }
  });
}

/** Runs `fn` on the tenants of the data dir (a missing tenant or key, or a last key, fails: exit 1). */
async function withTenants(
  values: Values,
  io: CliIo,
  fn: (tenants: Tenants) => Promise<void>,
): Promise<number> {
  const config = configFrom(values, io.env);
  makePrivateDir(config.dataDir);
  const db = new EmbeddedDb({ path: join(config.dataDir, DB_FILE) });
  try {
    await fn(new EmbeddedTenants({ db }));
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
