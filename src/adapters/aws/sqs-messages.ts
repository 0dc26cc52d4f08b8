import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { ValidationError } from '../../domain/errors.ts';
import { requireText } from '../checks/input.ts';

/*
 * SQS's messages as the delivery queue sends and receives them: SQS's size and character rules,
 * checked before anything is sent, and the mapping of a received message.
 */

/** SQS caps a visibility timeout at 12 hours. */
export const MAX_VISIBILITY_TIMEOUT_MS = 12 * 60 * 60 * 1000;
/** SQS returns at most 10 messages per receive and takes at most 10 entries per batch. */
export const SQS_BATCH = 10;
/**
 * Bytes per SendMessageBatch call (bodies plus attribute names, types and values). SQS now takes
 * 1 MiB, but queues created with the old default cap a message at 256 KiB; a delivery job is a
 * few hundred bytes, so the smaller bound costs nothing.
 */
export const MAX_BATCH_BYTES = 256 * 1024;
/** SQS allows 10 message attributes per message. */
const MAX_ATTRIBUTES = 10;
/** Characters SQS accepts in a body or attribute value (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000+). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding the characters SQS refuses is the point.
const INVALID_CHAR = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/;
const RESERVED_NAME = /^(aws\.|amazon\.)/i;

/** SQS's size of a message: body plus every attribute's name, data type and value, in UTF-8 bytes. */
export function messageBytes(
  body: string,
  attributes: Readonly<Record<string, MessageAttributeValue>>,
): number {
  let n = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    n += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    n += Buffer.byteLength(value.StringValue ?? '', 'utf8');
  }
  return n;
}

/** Checks a body as SQS would, so a batch is refused whole before anything is sent. */
export function checkBody(body: unknown, path: string): asserts body is string {
  requireText(body, path);
  if (INVALID_CHAR.test(body)) {
    throw new ValidationError([{ path, message: 'has a character SQS does not accept' }]);
  }
}

/** String message attributes from a plain record, checked as SQS would. */
export function toMessageAttributes(attributes: unknown): Record<string, MessageAttributeValue> {
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new ValidationError([{ path: 'attributes', message: 'must be an object of strings' }]);
  }
  const entries = Object.entries(attributes);
  if (entries.length > MAX_ATTRIBUTES) {
    throw new ValidationError([{ path: 'attributes', message: `SQS takes at most ${MAX_ATTRIBUTES}` }]);
  }
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of entries) {
    if (!ATTRIBUTE_NAME.test(name) || RESERVED_NAME.test(name)) {
      throw new ValidationError([
        { path: `attributes.${name}`, message: 'is not a valid SQS attribute name' },
      ]);
    }
    checkBody(value, `attributes.${name}`);
    out[name] = { DataType: 'String', StringValue: value };
  }
  return out;
}

/** The String and Number attributes of a received message as plain strings (binary ones are not ours). */
export function plainAttributes(message: Message): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) out[name] = value.StringValue;
  }
  return out;
}

/** A system attribute of a received message as a number (0 when SQS left it out). */
export function numberAttribute(message: Message, name: string): number {
  const value = Number(message.Attributes?.[name as keyof typeof message.Attributes]);
  return Number.isFinite(value) ? value : 0;
}
