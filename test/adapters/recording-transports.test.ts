import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import {
  RecordingEmailTransport,
  RecordingPushTransport,
} from '../../src/adapters/embedded/recording-transports.ts';
import { TransportRetryableError, ValidationError } from '../../src/domain/errors.ts';
import { targetDigest } from '../../src/domain/keys.ts';
import type { EmailMessage, PushMessage } from '../../src/ports/transports.ts';

const TOKEN = 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2';

function push(messageId: string, extra: Partial<PushMessage> = {}): PushMessage {
  return {
    tenantId: 'tenant-1',
    userId: 'alice',
    token: TOKEN,
    platform: 'apns',
    title: 'New follower',
    body: 'bob followed you',
    category: 'social',
    collapseId: messageId.replaceAll('-', ''),
    messageId,
    ...extra,
  };
}

function email(messageId: string, extra: Partial<EmailMessage> = {}): EmailMessage {
  return {
    tenantId: 'tenant-1',
    userId: 'alice',
    to: 'alice@example.com',
    subject: 'New follower',
    text: 'bob followed you',
    messageId,
    ...extra,
  };
}

describe('recording transports', () => {
  let db: EmbeddedDb;
  beforeEach(() => {
    db = new EmbeddedDb({ path: ':memory:' });
  });
  afterEach(() => {
    db.close();
  });

  it('starts with empty stats', async () => {
    // Act
    const stats = await new RecordingPushTransport({ db }).stats();
    // Assess
    expect(stats).toEqual({ sends: 0, unique: 0, ambiguousResends: 0, duplicates: 0 });
  });

  it('records the target digest a push carries, and the digest of the token when it carries none or a malformed one', async () => {
    // Prepare
    const transport = new RecordingPushTransport({ db });
    // Act
    await transport.send(push('m-1', { targetDigest: '0123456789abcdef' }));
    await transport.send(push('m-2'));
    await transport.send(push('m-3', { targetDigest: 'not-a-digest' }));
    // Assess
    expect((await transport.recorded('m-1'))?.target).toBe('0123456789abcdef');
    expect((await transport.recorded('m-2'))?.target).toBe(targetDigest(TOKEN));
    expect((await transport.recorded('m-3'))?.target).toBe(targetDigest(TOKEN));
  });

  it('answers sent and counts each message id once', async () => {
    // Prepare
    const transport = new RecordingPushTransport({ db });
    // Act
    const results = [await transport.send(push('m-1')), await transport.send(push('m-2'))];
    // Assess
    expect(results).toEqual([
      { status: 'sent', providerMessageId: 'm-1' },
      { status: 'sent', providerMessageId: 'm-2' },
    ]);
    expect(await transport.stats()).toEqual({ sends: 2, unique: 2, ambiguousResends: 0, duplicates: 0 });
  });

  it('tells an ambiguous resend from a duplicate', async () => {
    // Prepare
    const transport = new RecordingPushTransport({ db });
    await transport.send(push('m-1'));
    await transport.send(push('m-2', { ambiguousRetry: true }));
    // Act
    await transport.send(push('m-1', { ambiguousRetry: true }));
    await transport.send(push('m-2'));
    await transport.send(push('m-2'));
    // Assess
    expect(await transport.stats()).toEqual({ sends: 5, unique: 2, ambiguousResends: 1, duplicates: 2 });
    expect(await transport.recorded('m-2')).toMatchObject({ sends: 3, ambiguousResends: 0, duplicates: 2 });
  });

  it('keeps a digest of the token and the length of the body, never the values', async () => {
    // Prepare
    const transport = new RecordingPushTransport({ db, clock: { now: () => 7_000 } });
    // Act
    await transport.send(push('m-1'));
    // Assess
    expect(await transport.recorded('m-1')).toEqual({
      messageId: 'm-1',
      tenantId: 'tenant-1',
      userId: 'alice',
      target: targetDigest(TOKEN),
      bodyLength: 'bob followed you'.length,
      sends: 1,
      ambiguousResends: 0,
      duplicates: 0,
      firstAt: 7_000,
      lastAt: 7_000,
    });
    const dump = JSON.stringify(db.sqlite.prepare('SELECT * FROM recorded_sends').all());
    expect(dump).not.toContain(TOKEN);
    expect(dump).not.toContain('bob followed you');
  });

  it('keeps push and email apart even for the same message id', async () => {
    // Prepare
    const pushSink = new RecordingPushTransport({ db });
    const emailSink = new RecordingEmailTransport({ db });
    // Act
    await pushSink.send(push('same-id'));
    await emailSink.send(email('same-id'));
    await emailSink.send(email('other-id'));
    // Assess
    expect(await pushSink.stats()).toEqual({ sends: 1, unique: 1, ambiguousResends: 0, duplicates: 0 });
    expect(await emailSink.stats()).toEqual({ sends: 2, unique: 2, ambiguousResends: 0, duplicates: 0 });
    const dump = JSON.stringify(db.sqlite.prepare('SELECT * FROM recorded_sends').all());
    expect(dump).not.toContain('alice@example.com');
  });

  it('returns an injected rejection without recording a send', async () => {
    // Prepare
    const transport = new RecordingPushTransport({
      db,
      fault: (m) =>
        m.messageId === 'bad'
          ? { status: 'rejected', reason: 'BadDeviceToken', deactivateDevice: true }
          : undefined,
    });
    // Act
    const rejected = await transport.send(push('bad'));
    const sent = await transport.send(push('good'));
    // Assess
    expect(rejected).toEqual({ status: 'rejected', reason: 'BadDeviceToken', deactivateDevice: true });
    expect(sent.status).toBe('sent');
    expect(await transport.stats()).toEqual({ sends: 1, unique: 1, ambiguousResends: 0, duplicates: 0 });
    expect(await transport.recorded('bad')).toBeUndefined();
  });

  it('throws an injected error; only an ambiguous one counts as having reached the provider', async () => {
    // Prepare
    const transport = new RecordingEmailTransport({
      db,
      fault: (m) =>
        m.messageId === 'throttled'
          ? new TransportRetryableError('throttled', { retryAfterMs: 1000 })
          : m.messageId === 'timed-out'
            ? new TransportRetryableError('timed out', { ambiguous: true })
            : undefined,
    });
    // Act
    const throttled = transport.send(email('throttled'));
    const timedOut = transport.send(email('timed-out'));
    // Assess
    await expect(throttled).rejects.toBeInstanceOf(TransportRetryableError);
    await expect(timedOut).rejects.toMatchObject({ ambiguous: true });
    expect(await transport.recorded('throttled')).toBeUndefined();
    expect((await transport.recorded('timed-out'))?.sends).toBe(1);
  });

  it('rejects a message without a target or ids, recording nothing', async () => {
    // Prepare
    const pushSink = new RecordingPushTransport({ db });
    const emailSink = new RecordingEmailTransport({ db });
    // Act / Assess
    await expect(pushSink.send(push('m-1', { token: '' }))).rejects.toBeInstanceOf(ValidationError);
    await expect(pushSink.send(push(''))).rejects.toBeInstanceOf(ValidationError);
    await expect(emailSink.send(email('m-1', { to: '' }))).rejects.toBeInstanceOf(ValidationError);
    await expect(emailSink.send(email('m-1', { tenantId: '' }))).rejects.toBeInstanceOf(ValidationError);
    expect((await pushSink.stats()).sends + (await emailSink.stats()).sends).toBe(0);
  });

  it('asks for a retry, not a maybe-sent, when it cannot record', async () => {
    // Prepare
    const transport = new RecordingPushTransport({ db });
    db.close();
    // Act
    const result = transport.send(push('m-1'));
    // Assess
    await expect(result).rejects.toBeInstanceOf(TransportRetryableError);
    await expect(result).rejects.toMatchObject({ ambiguous: false });
  });

  it('records sends issued together in one commit, each resolved after it', async () => {
    // Prepare
    const transport = new RecordingPushTransport({ db });
    // Act
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => transport.send(push(`m-${i}`))));
    // Assess
    expect(results.every((r) => r.status === 'sent')).toBe(true);
    expect(await transport.stats()).toEqual({ sends: 25, unique: 25, ambiguousResends: 0, duplicates: 0 });
  });

  it('fails every send of a group whose commit failed, as retryable and not ambiguous', async () => {
    // Prepare
    const transport = new RecordingPushTransport({ db });
    const sends = [transport.send(push('m-1')), transport.send(push('m-2')), transport.send(push('m-3'))];
    // Act: the database goes away before the group is written
    db.close();
    const settled = await Promise.allSettled(sends);
    // Assess
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect((s as PromiseRejectedResult).reason).toBeInstanceOf(TransportRetryableError);
      expect((s as PromiseRejectedResult).reason.ambiguous).toBe(false);
    }
  });

  it('keeps its totals across a restart on the same file', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'fanout-sinks-'));
    const path = join(dir, 'fanout.db');
    const first = new EmbeddedDb({ path });
    await new RecordingPushTransport({ db: first }).send(push('m-1'));
    first.close();
    // Act
    const second = new EmbeddedDb({ path });
    const transport = new RecordingPushTransport({ db: second });
    await transport.send(push('m-1', { ambiguousRetry: true }));
    // Assess
    expect(await transport.stats()).toEqual({ sends: 2, unique: 1, ambiguousResends: 1, duplicates: 0 });
    second.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
