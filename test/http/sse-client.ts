/** One event of a server-sent event stream. */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/** A small EventSource over fetch: `next(type)` resolves with the next event of that type. */
export async function listen(url: string) {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  if (res.status !== 200 || res.body === null) throw new Error(`stream answered ${res.status}`);
  const seen: SseEvent[] = [];
  let taken = 0;
  let wake: () => void = () => {};
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let id: string | undefined;
          let event = 'message';
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) seen.push({ id, event, data: data.join('\n') });
        }
        wake();
      }
    } catch {
      // Closed by the test.
    }
  })();
  const next = async (type: string): Promise<SseEvent> => {
    for (;;) {
      const i = seen.findIndex((e, n) => n >= taken && e.event === type);
      if (i >= 0) {
        taken = i + 1;
        return seen[i]!;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };
  return { next, seen, close: () => abort.abort() };
}
