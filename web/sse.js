// Server-sent events over fetch, so a credential can travel in the Authorization header instead
// of the URL (EventSource cannot send headers).

/**
 * Reads `url` as an event stream until `signal` aborts or the stream ends, calling
 * `onEvent({event, data, id})` per event. Resolves with the response status when it ends
 * (200 when the server closed an open stream). `onOpen()`, when given, runs once the stream is open.
 */
export async function readEvents(url, headers, onEvent, signal, onOpen) {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal });
  if (!res.ok || res.body === null) return res.status;
  onOpen?.();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return res.status;
    buffer += value.replaceAll('\r\n', '\n');
    let cut = buffer.indexOf('\n\n');
    while (cut >= 0) {
      const frame = parseFrame(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (frame !== undefined) onEvent(frame);
      cut = buffer.indexOf('\n\n');
    }
  }
}

function parseFrame(text) {
  let event = 'message';
  let id;
  const data = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  return data.length === 0 ? undefined : { event, id, data: data.join('\n') };
}
