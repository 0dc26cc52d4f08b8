// The user's own preferences panel: category × channel switches, email cadence (at once, or an
// hourly or daily digest), quiet hours and timezone, read from and written to /v1/me/preferences. Every change sends only what it changes (a JSON merge
// patch), so whatever else the tenant set for this user stays as it is.

const CATEGORIES = ['social', 'content', 'mention', 'critical'];
const CHANNELS = ['push', 'email'];
const LABELS = { social: 'Social', content: 'Content', mention: 'Mentions', critical: 'Critical' };
// Critical email is always sent at once: the API refuses a cadence for it.
const DIGEST_CATEGORIES = ['social', 'content', 'mention'];
const CADENCES = [
  ['immediate', 'Right away'],
  ['hourly', 'Hourly digest'],
  ['daily', 'Daily digest'],
];
const HOURS = Array.from({ length: 24 }, (_, h) => h);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('aria-') || key === 'role' || key === 'for') node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children);
  return node;
}

/**
 * The panel, for a user whose requests `api(path, init)` authorises. Returns the element and
 * `load()`, which (re)reads the preferences into it.
 */
export function createPreferences(api, idPrefix = 'prefs') {
  const status = el('p', { class: 'visually-hidden', id: `${idPrefix}-status`, 'aria-live': 'polite' });
  const error = el('p', { class: 'error', role: 'alert' });
  const body = el('tbody');
  const table = el(
    'table',
    { class: 'prefs-table' },
    el('caption', { class: 'visually-hidden' }, 'What reaches you, by kind and channel'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { scope: 'col' }, 'Kind'),
        el('th', { scope: 'col' }, 'Push'),
        el('th', { scope: 'col' }, 'Email'),
      ),
    ),
    body,
  );
  const quietOn = el('input', { type: 'checkbox', id: `${idPrefix}-quiet-on`, role: 'switch' });
  const start = el('input', { type: 'time', id: `${idPrefix}-quiet-start`, value: '22:00', required: true });
  const end = el('input', { type: 'time', id: `${idPrefix}-quiet-end`, value: '07:00', required: true });
  const zone = el('input', {
    id: `${idPrefix}-timezone`,
    autocomplete: 'off',
    spellcheck: false,
    placeholder: 'Europe/Paris',
  });
  const zones = el('datalist', { id: `${idPrefix}-zones` });
  zone.setAttribute('list', zones.id);
  const cadenceFields = el('div', { class: 'prefs-form' });
  const digestHour = el('select', { id: `${idPrefix}-digest-hour` });
  digestHour.append(
    ...HOURS.map((h) => el('option', { value: String(h) }, `${String(h).padStart(2, '0')}:00`)),
  );
  digestHour.addEventListener('change', () => {
    void patch(
      { digestHour: Number(digestHour.value) },
      `Daily digests at ${digestHour.selectedOptions[0]?.textContent}`,
    );
  });
  const save = el('button', { type: 'submit', class: 'primary' }, 'Save');
  const form = el(
    'form',
    { class: 'prefs-form' },
    el(
      'div',
      { class: 'field switch-field' },
      quietOn,
      el('label', { for: quietOn.id }, 'Quiet hours (push waits until they end)'),
    ),
    el(
      'div',
      { class: 'field-row' },
      el('div', { class: 'field' }, el('label', { for: start.id }, 'From'), start),
      el('div', { class: 'field' }, el('label', { for: end.id }, 'Until'), end),
    ),
    el('div', { class: 'field' }, el('label', { for: zone.id }, 'Timezone'), zone, zones),
    save,
  );
  const panel = el(
    'div',
    { class: 'prefs' },
    el('h3', { class: 'prefs-heading' }, 'Channels'),
    table,
    el('h3', { class: 'prefs-heading' }, 'Email: at once or in a digest'),
    cadenceFields,
    el('h3', { class: 'prefs-heading' }, 'Quiet hours and timezone'),
    form,
    status,
    error,
  );
  const syncQuiet = () => {
    start.disabled = !quietOn.checked;
    end.disabled = !quietOn.checked;
  };
  quietOn.addEventListener('change', syncQuiet);

  async function patch(body, done, undo) {
    error.textContent = '';
    try {
      const res = await api('/v1/me/preferences', {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) {
        const answer = await res.json().catch(() => undefined);
        throw new Error(answer?.error?.message ?? `HTTP ${res.status}`);
      }
      status.textContent = done;
    } catch (err) {
      undo?.();
      error.textContent = `Not saved (${err.message}).`;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const quietHours = quietOn.checked ? { start: start.value, end: end.value } : null;
    const timezone = zone.value.trim();
    void patch(
      { quietHours, ...(timezone === '' ? {} : { timezone }) },
      quietOn.checked ? `Quiet hours ${start.value}–${end.value} saved` : 'Quiet hours off',
    );
  });

  function render(prefs) {
    const rows = CATEGORIES.map((category) => {
      const tr = el('tr', {}, el('th', { scope: 'row' }, LABELS[category]));
      for (const channel of CHANNELS) {
        const input = el('input', {
          type: 'checkbox',
          role: 'switch',
          id: `${idPrefix}-${category}-${channel}`,
          'aria-label': `${category} notifications by ${channel}`,
        });
        input.checked = prefs.categories?.[category]?.[channel] !== false;
        input.addEventListener('change', async () => {
          const on = input.checked;
          input.disabled = true;
          await patch(
            { categories: { [category]: { [channel]: on } } },
            `${category} by ${channel} ${on ? 'on' : 'off'}`,
            () => {
              input.checked = !on;
            },
          );
          input.disabled = false;
        });
        tr.append(el('td', {}, input));
      }
      return tr;
    });
    body.replaceChildren(...rows);
    const cadences = DIGEST_CATEGORIES.map((category) => {
      const select = el('select', { id: `${idPrefix}-${category}-cadence` });
      select.append(...CADENCES.map(([value, label]) => el('option', { value }, label)));
      select.value = prefs.emailCadence?.[category] ?? 'immediate';
      let before = select.value;
      select.addEventListener('change', async () => {
        const value = select.value;
        select.disabled = true;
        await patch(
          { emailCadence: { [category]: value } },
          `${category} email ${value === 'immediate' ? 'right away' : `in the ${value} digest`}`,
          () => {
            select.value = before;
          },
        );
        if (select.value === value) before = value;
        select.disabled = false;
      });
      return el(
        'div',
        { class: 'field' },
        el('label', { for: select.id }, `${LABELS[category]} email`),
        select,
      );
    });
    cadenceFields.replaceChildren(
      el('div', { class: 'field-row' }, ...cadences),
      el(
        'div',
        { class: 'field' },
        el('label', { for: digestHour.id }, 'Daily digest at (your timezone)'),
        digestHour,
      ),
    );
    digestHour.value = String(prefs.digestHour ?? 9);
    quietOn.checked = prefs.quietHours != null;
    if (prefs.quietHours) {
      start.value = prefs.quietHours.start;
      end.value = prefs.quietHours.end;
    }
    syncQuiet();
    zone.value = prefs.timezone ?? '';
    if (zones.childElementCount === 0 && typeof Intl.supportedValuesOf === 'function') {
      zones.append(...Intl.supportedValuesOf('timeZone').map((z) => el('option', { value: z })));
    }
  }

  async function load() {
    error.textContent = '';
    const res = await api('/v1/me/preferences').catch(() => undefined);
    if (!res?.ok) {
      error.textContent = `Preferences could not be loaded (${res ? `HTTP ${res.status}` : 'offline'}).`;
      return;
    }
    render(await res.json());
  }

  return { element: panel, load };
}
