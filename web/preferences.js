// The user's own preferences panel: category × channel switches, read from and written to
// /v1/me/preferences. A change sends only the one switch (a merge patch), so whatever else the
// tenant set for this user stays as it is.

const CATEGORIES = ['social', 'content', 'mention', 'critical'];
const CHANNELS = ['push', 'email'];

const $ = (id) => document.getElementById(id);

/** Shows the panel for the signed-in user; `api(path, init)` adds their token. */
export function showPreferences(api) {
  const panel = $('prefs');
  panel.hidden = false;
  panel.open = false;
  $('prefs-body').replaceChildren();
  $('prefs-error').textContent = '';
  panel.ontoggle = () => {
    if (panel.open) void load(api);
  };
}

export function hidePreferences() {
  const panel = $('prefs');
  panel.hidden = true;
  panel.open = false;
  panel.ontoggle = null;
  $('prefs-body').replaceChildren();
}

async function load(api) {
  $('prefs-error').textContent = '';
  const res = await api('/v1/me/preferences');
  if (!res.ok) {
    $('prefs-error').textContent = `Preferences could not be loaded (HTTP ${res.status}).`;
    return;
  }
  render(api, await res.json());
}

function render(api, prefs) {
  const rows = CATEGORIES.map((category) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = category;
    tr.append(th);
    for (const channel of CHANNELS) {
      const td = document.createElement('td');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.setAttribute('role', 'switch');
      input.id = `pref-${category}-${channel}`;
      input.setAttribute('aria-label', `${category} notifications by ${channel}`);
      input.checked = prefs.categories?.[category]?.[channel] !== false;
      input.addEventListener('change', () => void save(api, input, category, channel));
      td.append(input);
      tr.append(td);
    }
    return tr;
  });
  $('prefs-body').replaceChildren(...rows);
}

async function save(api, input, category, channel) {
  const on = input.checked;
  input.disabled = true;
  $('prefs-error').textContent = '';
  try {
    const res = await api('/v1/me/preferences', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ categories: { [category]: { [channel]: on } } }),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    $('prefs-status').textContent = `${category} by ${channel} ${on ? 'on' : 'off'}`;
  } catch (err) {
    input.checked = !on;
    $('prefs-error').textContent = `Not saved (${err.message}); the switch is back as it was.`;
  } finally {
    input.disabled = false;
  }
}
