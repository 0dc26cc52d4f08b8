import { ValidationError } from '../../domain/errors.ts';
import type { CelebrityPointer } from '../../domain/types.ts';
import type { PointerRef } from '../../ports/celebrity-feed.ts';
import { requireArray, requireText } from './input.ts';

/**
 * Argument checks of the CelebrityFeed port, shared by its embedded and AWS adapters so both
 * refuse a bad pointer with the same path and message.
 */

/** Throws a ValidationError naming the first bad field of pointer `i`. */
export function validatePointer(p: CelebrityPointer, i: number): void {
  requireText(p?.tenantId, `pointers[${i}].tenantId`);
  requireText(p.authorId, `pointers[${i}].authorId`);
  requireText(p.id, `pointers[${i}].id`);
  requireText(p.eventId, `pointers[${i}].eventId`);
  requireText(p.type, `pointers[${i}].type`);
  requireText(p.category, `pointers[${i}].category`);
  if (typeof p.createdAt !== 'number' || !Number.isFinite(p.createdAt)) {
    throw new ValidationError([{ path: `pointers[${i}].createdAt`, message: 'must be epoch ms' }]);
  }
}

/** Throws a ValidationError naming the first bad ref of `getMany`. */
export function validateRefs(refs: readonly PointerRef[]): void {
  requireArray(refs, 'refs');
  refs.forEach((r, i) => {
    requireText(r?.authorId, `refs[${i}].authorId`);
    requireText(r.id, `refs[${i}].id`);
  });
}
