/**
 * The push services browsers subscribe at: Chrome, Edge (FCM), Firefox (Mozilla autopush), Safari
 * (Apple), the Windows notification service. A subscription's endpoint is a URL its user chose, and
 * the server POSTs to it: without a list, any user could make the push consumer send requests to
 * hosts inside the deployment's network (server-side request forgery).
 */
export const DEFAULT_WEB_PUSH_HOSTS: readonly string[] = Object.freeze([
  'fcm.googleapis.com',
  'push.services.mozilla.com',
  'web.push.apple.com',
  'notify.windows.com',
]);

/**
 * Whether the push consumer may POST to `endpoint`: its host is one of `hosts` or below one of
 * them (`updates.push.services.mozilla.com` under `push.services.mozilla.com`). An IP address or a
 * plain-http endpoint (a loopback fake) passes only when its host is listed itself.
 */
export function endpointAllowed(endpoint: string, hosts: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  const host = url.hostname.toLowerCase();
  const exact = hosts.some((h) => h === host);
  // The push services listen on 443: another port is another service on their hosts. Only a
  // listed loopback or IP address (a push service under test) may name one.
  if (url.port !== '' && !(exact && (isLoopback(host) || isIpLiteral(host)))) return false;
  // Plain http only reaches a listed loopback host: a push service on this machine, under test.
  if (url.protocol === 'http:') return exact && isLoopback(host);
  if (url.protocol !== 'https:') return false;
  if (isIpLiteral(host)) return exact;
  return exact || hosts.some((h) => host.endsWith(`.${h}`));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

function isIpLiteral(host: string): boolean {
  return host.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}
