// The inbox element's stylesheet, adopted by its shadow root (a constructed sheet: no inline
// <style>, so pages with a strict style-src CSP can host it). Every colour, the radius and the
// font come from a --fanout-* custom property a page may set; the defaults pass WCAG AA.

// The dark palette, set by `theme="dark"` or by the system's dark mode unless `theme="light"`.
const DARK = `
  --_accent: var(--fanout-accent, #a5b4fc);
  --_accent-fg: var(--fanout-accent-fg, #111827);
  --_bg: var(--fanout-bg, #111827);
  --_fg: var(--fanout-fg, #f3f4f6);
  --_muted: var(--fanout-muted, #9ca3af);
  --_border: var(--fanout-border, #374151);
  --_hover: var(--fanout-hover-bg, #1f2937);
  --_unread: var(--fanout-unread-bg, #1b2140);
  --_badge: var(--fanout-badge-bg, #f87171);
  --_badge-fg: var(--fanout-badge-fg, #111827);
  --_shadow: var(--fanout-shadow, 0 12px 32px rgb(0 0 0 / 55%));
  color-scheme: dark;
`;

export const STYLES = `
:host {
  --_accent: var(--fanout-accent, #4f46e5);
  --_accent-fg: var(--fanout-accent-fg, #ffffff);
  --_bg: var(--fanout-bg, #ffffff);
  --_fg: var(--fanout-fg, #111827);
  --_muted: var(--fanout-muted, #4b5563);
  --_border: var(--fanout-border, #e5e7eb);
  --_hover: var(--fanout-hover-bg, #f3f4f6);
  --_unread: var(--fanout-unread-bg, #eef2ff);
  --_badge: var(--fanout-badge-bg, #dc2626);
  --_badge-fg: var(--fanout-badge-fg, #ffffff);
  --_bell: var(--fanout-bell-fg, currentColor);
  --_radius: var(--fanout-radius, 12px);
  --_shadow: var(--fanout-shadow, 0 12px 32px rgb(17 24 39 / 18%), 0 2px 6px rgb(17 24 39 / 8%));
  --_focus: var(--fanout-focus, #f59e0b);
  position: relative;
  display: inline-block;
  font: var(--fanout-font, 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  color-scheme: light;
}
:host([theme="dark"]) {
${DARK}}
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"])) {
${DARK}  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
button, input, select { font: inherit; color: inherit; }
:focus-visible { outline: 3px solid var(--_focus); outline-offset: 2px; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
}
.bell {
  position: relative; display: grid; place-items: center;
  width: 44px; height: 44px; border: 0; border-radius: 999px;
  background: transparent; color: var(--_bell); cursor: pointer;
}
.bell:hover, .bell[aria-expanded="true"] { background: rgb(127 127 127 / 16%); }
.bell svg { width: 24px; height: 24px; }
.badge {
  position: absolute; top: 2px; right: 0; min-width: 20px; height: 20px; padding: 0 5px;
  border-radius: 999px; background: var(--_badge); color: var(--_badge-fg);
  font-size: 11px; font-weight: 700; line-height: 20px; text-align: center;
  box-shadow: 0 0 0 2px var(--_bg);
}
.panel {
  position: absolute; z-index: 1000; top: calc(100% + 8px); right: 0;
  width: var(--fanout-width, 420px); max-width: calc(100vw - 16px);
  height: var(--fanout-height, 600px); max-height: calc(100vh - 96px);
  display: flex; flex-direction: column; overflow: hidden;
  background: var(--_bg); color: var(--_fg);
  border: 1px solid var(--_border); border-radius: var(--_radius); box-shadow: var(--_shadow);
  text-align: start;
}
.panel.from-left { right: auto; left: 0; }
.panel.narrow { position: fixed; left: 8px; right: 8px; width: auto; max-width: none; }
.panel:focus { outline: none; }
.head {
  position: sticky; top: 0; display: flex; align-items: center; gap: 4px;
  padding: 12px 8px 8px 16px; background: var(--_bg);
}
.head h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 650; display: flex; gap: 8px; align-items: baseline; }
.count { color: var(--_muted); font-size: 13px; font-weight: 500; }
.text-button {
  border: 0; background: transparent; color: var(--_accent); font-weight: 600;
  padding: 6px 8px; border-radius: 8px; cursor: pointer; white-space: nowrap;
}
.text-button:hover { background: var(--_hover); }
.text-button:disabled { color: var(--_muted); cursor: default; background: transparent; }
.icon-button {
  display: grid; place-items: center; width: 36px; height: 36px; border: 0; border-radius: 8px;
  background: transparent; color: var(--_muted); cursor: pointer;
}
.icon-button:hover, .icon-button[aria-expanded="true"] { background: var(--_hover); color: var(--_fg); }
.icon-button svg { width: 20px; height: 20px; }
.tabs { display: flex; gap: 4px; padding: 0 12px; border-bottom: 1px solid var(--_border); }
.tab {
  position: relative; border: 0; background: transparent; color: var(--_muted); cursor: pointer;
  padding: 8px 10px 10px; font-weight: 600; display: flex; gap: 6px; align-items: center;
}
.tab[aria-selected="true"] { color: var(--_fg); }
.tab[aria-selected="true"]::after {
  content: ""; position: absolute; left: 6px; right: 6px; bottom: -1px; height: 2px;
  border-radius: 2px; background: var(--_accent);
}
.tab-count {
  min-width: 18px; padding: 0 6px; border-radius: 999px; background: var(--_hover);
  color: var(--_fg); font-size: 11px; line-height: 18px; text-align: center;
}
.scroll { flex: 1; overflow-y: auto; overscroll-behavior: contain; }
.list { list-style: none; margin: 0; padding: 0; }
.list:focus { outline: none; }
.item {
  position: relative; display: flex; align-items: flex-start;
  border-bottom: 1px solid var(--_border);
}
.item.unread { background: var(--_unread); }
.item.fresh { animation: fresh 1.2s ease-out; }
.item.linked { box-shadow: inset 3px 0 0 var(--_accent); }
@keyframes fresh { from { background: color-mix(in srgb, var(--_accent) 22%, var(--_bg)); } }
@media (prefers-reduced-motion: reduce) { .item.fresh { animation: none; } }
.item-main {
  flex: 1; min-width: 0; display: flex; gap: 12px; align-items: flex-start;
  padding: 12px 8px 12px 16px; border: 0; background: transparent; text-align: start;
  color: inherit; text-decoration: none; cursor: pointer; border-radius: 0;
}
.item-main:hover { background: color-mix(in srgb, var(--_fg) 5%, transparent); }
.avatar {
  position: relative; flex: none; width: 36px; height: 36px; border-radius: 999px; overflow: hidden;
  display: grid; place-items: center; font-size: 13px; font-weight: 700; color: #ffffff;
  background: #4338ca;
}
.avatar[data-hue="1"] { background: #0f766e; }
.avatar[data-hue="2"] { background: #b45309; }
.avatar[data-hue="3"] { background: #be185d; }
.avatar[data-hue="4"] { background: #1d4ed8; }
.avatar[data-hue="5"] { background: #7e22ce; }
.avatar[data-hue="6"] { background: #15803d; }
.avatar[data-hue="7"] { background: #b91c1c; }
.avatar img { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: cover; }
.item-body { min-width: 0; display: flex; flex-direction: column; gap: 2px; padding-top: 1px; }
.item-title { font-weight: 600; }
.item-text { overflow-wrap: anywhere; }
.item.unread .item-text { font-weight: 600; }
.item-meta { font-size: 12px; color: var(--_muted); }
.dot {
  flex: none; width: 8px; height: 8px; margin: 22px 0 0; border-radius: 999px; background: transparent;
}
.item.unread .dot { background: var(--_accent); }
.actions { flex: none; display: flex; flex-direction: column; gap: 2px; padding: 8px 8px 8px 4px; }
.action {
  display: grid; place-items: center; width: 32px; height: 32px; border: 0; border-radius: 8px;
  background: transparent; color: var(--_muted); cursor: pointer;
}
.action:hover { background: var(--_hover); color: var(--_fg); }
.action svg { width: 18px; height: 18px; }
.empty {
  display: flex; flex-direction: column; align-items: center; gap: 8px;
  padding: 48px 24px; margin: 0; color: var(--_muted); text-align: center;
}
.empty svg { width: 40px; height: 40px; opacity: 0.6; }
.empty strong { color: var(--_fg); font-size: 15px; }
.more {
  display: block; width: calc(100% - 32px); margin: 12px 16px; padding: 8px;
  border: 1px solid var(--_border); border-radius: 8px; background: transparent; color: var(--_fg);
  font-weight: 600; cursor: pointer;
}
.more:hover { background: var(--_hover); }
.sentinel { height: 1px; }
.foot {
  display: flex; justify-content: space-between; align-items: center; gap: 8px;
  margin: 0; padding: 8px 16px; border-top: 1px solid var(--_border); color: var(--_muted); font-size: 12px;
}
.live::before {
  content: ""; display: inline-block; width: 8px; height: 8px; margin-right: 6px; border-radius: 999px;
  background: #9ca3af; vertical-align: 0;
}
.live[data-state="live"]::before { background: #16a34a; }
.live[data-state="offline"]::before { background: #dc2626; }
.error { margin: 0; padding: 0 16px; color: var(--_badge); }
.error:empty { display: none; }
.error { padding: 8px 16px; }
.prefs { padding: 8px 16px 16px; }
.prefs-heading { margin: 12px 0 8px; font-size: 13px; font-weight: 650; color: var(--_muted); }
.prefs-table { width: 100%; border-collapse: collapse; }
.prefs-table th, .prefs-table td { padding: 8px 4px; border-bottom: 1px solid var(--_border); text-align: start; }
.prefs-table thead th { font-size: 12px; color: var(--_muted); font-weight: 600; }
.prefs-table td { width: 72px; }
.prefs-form { display: flex; flex-direction: column; gap: 12px; }
.field { display: flex; flex-direction: column; gap: 4px; flex: 1; }
.field label { font-size: 13px; color: var(--_muted); }
.switch-field { flex-direction: row; align-items: center; gap: 10px; }
.switch-field label { color: var(--_fg); font-size: 14px; }
.field-row { display: flex; gap: 12px; }
.field select,
.field input:not([type="checkbox"]) {
  padding: 7px 10px; border: 1px solid var(--_muted); border-radius: 8px; background: var(--_bg);
}
.field input:disabled { opacity: 0.6; }
input[role="switch"] {
  appearance: none; position: relative; flex: none; width: 36px; height: 20px; margin: 0;
  border-radius: 999px; background: var(--_muted); cursor: pointer;
  transition: background 0.15s;
}
input[role="switch"]::after {
  content: ""; position: absolute; top: 2px; left: 2px; width: 16px; height: 16px; border-radius: 999px;
  background: var(--_bg); transition: transform 0.15s;
}
input[role="switch"]:checked { background: var(--_accent); }
input[role="switch"]:checked::after { transform: translateX(16px); }
input[role="switch"]:disabled { opacity: 0.6; }
.primary {
  align-self: flex-start; padding: 8px 16px; border: 0; border-radius: 8px; cursor: pointer;
  background: var(--_accent); color: var(--_accent-fg); font-weight: 600;
}
`;
