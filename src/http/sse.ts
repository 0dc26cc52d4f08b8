import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * Server-sent events over a Fastify reply: the plumbing the live inbox stream and the operations
 * stream (`/v1/ops/stream`) share.
 */

/** Unsent bytes after which a client is too slow: it is cut off and resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 1 << 20;

/** Where a stream writes its SSE frames. `false` from `write` means the client is gone or stalled. */
export interface SseSink {
  write(frame: string): boolean;
  end(): void;
}

/**
 * Takes the response over from Fastify and starts an event stream on it; `retryMs` is the
 * browser's reconnect delay.
 */
export function openEventStream(reply: FastifyReply, retryMs: number): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  // Exempt from the idle timeout (FANOUT_IDLE_TIMEOUT_MS): a quiet stream is not an idle client.
  // Heartbeats and events keep proxies from dropping it, and a write to a dead peer ends it.
  res.socket?.setTimeout(0);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Reverse proxies must pass events through as they come, not in buffered chunks.
    'x-accel-buffering': 'no',
    'x-content-type-options': 'nosniff',
  });
  res.write(`retry: ${retryMs}\n\n`);
  return res;
}

/** A sink over the raw response; a client that stops reading is cut off rather than buffered for. */
export function responseSink(res: ServerResponse): SseSink {
  return {
    write(frame) {
      if (res.destroyed || res.writableEnded) return false;
      res.write(frame);
      return res.writableLength <= MAX_BUFFERED_BYTES;
    },
    end() {
      if (!res.writableEnded) res.end();
    },
  };
}
