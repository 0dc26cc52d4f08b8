import { renderLine } from '../domain/render.ts';
import type { InboxItem, InboxRow, NotificationId } from '../domain/types.ts';

/**
 * A row as the inbox shows it: its sentence and headline in `locale` (the catalogs push and email
 * use; an aggregated item names its actors), seen when its id is at or below the seen watermark,
 * and only absolute http(s) links from its data, so a tenant's `javascript:` URL never reaches an
 * href.
 */
export function itemOf(
  row: InboxRow,
  seenMark: NotificationId | undefined,
  locale: string | undefined,
): InboxItem {
  const { title, line } = renderLine(
    row,
    locale,
    row.group === undefined ? undefined : { actors: row.group.actors, actorCount: row.group.actorCount },
  );
  const data = row.data;
  return {
    id: row.id,
    type: row.type,
    category: row.category,
    actorId: row.actorId,
    objectId: row.objectId ?? null,
    eventId: row.eventId,
    createdAt: row.createdAt,
    read: row.read,
    data: data ?? null,
    source: row.source === 'celebrity' ? 'celebrity' : 'row',
    group: row.group ?? null,
    groupKey: row.groupKey ?? null,
    seen: seenMark !== undefined && row.id <= seenMark,
    archived: row.archived === true,
    title,
    text: line,
    url: webUrl(data?.url),
    avatarUrl: webUrl(data?.avatarUrl) ?? webUrl(data?.actorAvatarUrl),
  };
}

/** `value` when it is an absolute http or https URL (normalised); else null. */
export function webUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}
