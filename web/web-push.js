// "Enable browser notifications": registers the service worker (/sw.js), subscribes with the
// server's VAPID key and hands the subscription to the API as this user's `webpush` device.
// Enabling is the user's own opt-in to push, so it also gives push consent in their preferences.

const $ = (id) => document.getElementById(id);

/** Shows the button when this browser can take web push; `api` is the page's authorised fetch. */
export function showWebPush(api) {
  const button = $('web-push');
  const status = $('web-push-status');
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    status.textContent = 'This browser cannot show push notifications.';
    return;
  }
  button.hidden = false;
  button.onclick = () => void enable(api, button, status);
  void navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
}

/**
 * On sign-out: this browser stops getting the user's notifications. The subscription is removed
 * from the user's devices (with the token still valid, captured by `api`) and unsubscribed at the
 * push service, so the next person at this browser never sees the last one's notifications.
 */
export async function forgetBrowser(api) {
  try {
    const registration = await navigator.serviceWorker?.getRegistration('/');
    const subscription = await registration?.pushManager.getSubscription();
    if (!subscription) return;
    await api('/v1/me/webpush/subscriptions', {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(subscription.toJSON()),
    }).catch(() => {});
    await subscription.unsubscribe();
  } catch {
    // Nothing to forget, or no push in this browser.
  }
}

export function hideWebPush() {
  $('web-push').hidden = true;
  $('web-push').onclick = null;
  $('web-push-status').textContent = '';
}

async function enable(api, button, status) {
  button.disabled = true;
  try {
    const keyRes = await api('/v1/me/webpush/vapid-public-key');
    if (!keyRes.ok) throw new Error('Browser notifications are not set up on this server.');
    const { publicKey } = await keyRes.json();
    if ((await Notification.requestPermission()) !== 'granted') {
      throw new Error('Notifications are blocked for this page in the browser settings.');
    }
    const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: publicKey,
    });
    const json = JSON.stringify(subscription.toJSON());
    const headers = { 'content-type': 'application/json' };
    const saved = await api('/v1/me/webpush/subscriptions', { method: 'POST', headers, body: json });
    if (!saved.ok) throw new Error('The server did not take this browser’s subscription.');
    await api('/v1/me/preferences', {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ consent: { push: true } }),
    });
    status.textContent = 'Browser notifications are on.';
    button.hidden = true;
  } catch (err) {
    status.textContent = err instanceof Error ? err.message : 'Browser notifications could not be enabled.';
  } finally {
    button.disabled = false;
  }
}
