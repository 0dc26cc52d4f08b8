import { EmbeddedDb } from '../../adapters/embedded/db.ts';
import { EmbeddedDeliveryQueue } from '../../adapters/embedded/delivery-queue.ts';
import type { DeadLetter } from '../../ports/delivery-queue.ts';
import { type CliIo, channelArg, configFrom, configOptions, intFlag, parse } from '../args.ts';
import { existingDataFile } from '../data-dir.ts';
import { step } from '../step.ts';
import { formatTable } from '../table.ts';
import { UsageError } from '../usage.ts';

export const DLQ_HELP = `Usage: fanout dlq list <push|email> [--limit N] [--json] [--data-dir DIR]
       fanout dlq redrive <push|email> [--data-dir DIR]

list     shows the dead letters of a channel, oldest first: message id, receive count, when it was
         dead-lettered, and the job's tenant, notification and user ids (never its content)
redrive  moves every dead letter of the channel back to its queue with a fresh receive count

Options:
  --limit N        how many to list (default 50)
  --json           print JSON
  --data-dir DIR   FANOUT_DATA_DIR (default ./.fanout)
  -h, --help       show this help
`;

const OPTIONS = {
  ...configOptions(['data-dir']),
  json: { type: 'boolean' },
  limit: { type: 'string' },
} as const;

/** One dead letter as shown: ids only, so the listing carries no personal data. */
export interface DeadLetterView {
  readonly messageId: string;
  readonly receiveCount: number;
  readonly deadLetteredAt: string;
  readonly tenantId: string | null;
  readonly notificationId: string | null;
  readonly userId: string | null;
}

/** `fanout dlq list|redrive`. */
export async function dlqCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, true);
  if (values.help) {
    io.stdout(DLQ_HELP);
    return 0;
  }
  const [sub, channelValue, ...rest] = positionals;
  if (sub !== 'list' && sub !== 'redrive') {
    throw new UsageError(`dlq: expected 'list' or 'redrive'${sub === undefined ? '' : `, not '${sub}'`}`);
  }
  const channel = channelArg(channelValue, `dlq ${sub}`);
  if (rest.length > 0) throw new UsageError(`dlq ${sub}: unexpected argument '${rest[0]}'`);
  const limit = intFlag(values.limit, 'limit', 1, 100_000) ?? 50;
  if (sub === 'redrive' && (values.limit !== undefined || values.json)) {
    throw new UsageError('dlq redrive takes no --limit or --json');
  }
  const config = configFrom(values, io.env);
  if (config.dataDir === ':memory:') throw new UsageError('dlq needs a data dir on disk');
  // Only the queue table is opened: the audit log and the rest stay with the running pipeline.
  const path = existingDataFile(config.dataDir);
  const db = await step(`opening ${path}`, () => new EmbeddedDb({ path }));
  try {
    const queue = new EmbeddedDeliveryQueue({ db, channel });
    if (sub === 'redrive') {
      const moved = await queue.redriveDeadLetters();
      io.stdout(`redrove ${moved} dead letter${moved === 1 ? '' : 's'} to the ${channel} queue\n`);
      return 0;
    }
    const letters = (await queue.listDeadLetters(limit)).map(view);
    if (values.json) {
      io.stdout(`${JSON.stringify(letters)}\n`);
    } else if (letters.length === 0) {
      io.stdout(`no dead letters in the ${channel} queue\n`);
    } else {
      io.stdout(
        `${formatTable([
          ['message id', 'receives', 'dead-lettered at', 'tenant', 'notification', 'user'],
          ...letters.map((l) => [
            l.messageId,
            String(l.receiveCount),
            l.deadLetteredAt,
            l.tenantId ?? '-',
            l.notificationId ?? '-',
            l.userId ?? '-',
          ]),
        ])}\n`,
      );
    }
    return 0;
  } finally {
    db.close();
  }
}

/** Picks the ids out of a body; a body that is no job (poison) shows none. */
export function view(letter: DeadLetter): DeadLetterView {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(letter.body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      body = parsed as Record<string, unknown>;
  } catch {
    // Poison: nothing to show but the message's own ids.
  }
  const id = (value: unknown) => (typeof value === 'string' && value.length <= 128 ? value : null);
  return {
    messageId: letter.messageId,
    receiveCount: letter.receiveCount,
    deadLetteredAt: new Date(letter.deadLetteredAt).toISOString(),
    tenantId: id(body.tenantId) ?? id(letter.attributes.tenant_id),
    notificationId: id(body.notificationId),
    userId: id(body.userId),
  };
}
