// Small DOM helpers. Text always goes in as text nodes, never as markup, so nothing the API
// returns can become script or HTML.

// el builds an element: attrs holds attributes, `class`, `text`, and on<event> handlers;
// children are nodes, strings (as text) or falsy (skipped).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// show replaces the main area's content.
export function show(...nodes) {
  document.getElementById('main').replaceChildren(...nodes);
}

let noticeTimer = 0;

// notify shows a short message under the header; errors stay until the next message.
export function notify(message, kind = 'info') {
  const box = document.getElementById('notice');
  clearTimeout(noticeTimer);
  box.textContent = message;
  box.className = 'notice ' + kind;
  box.hidden = !message;
  if (message && kind !== 'error') noticeTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

// table builds a table from column titles and rows of cells; empty says what no rows mean.
export function table(columns, rows, empty) {
  if (rows.length === 0) return el('p', { class: 'empty', text: empty });
  return el('table', { class: 'grid' },
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col', text: c })))),
    el('tbody', {}, rows));
}

// when formats a timestamp as local date and time with seconds.
export function when(value) {
  if (!value) return '–';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// ago says how long ago a timestamp was, roughly.
export function ago(value) {
  const ms = Date.now() - new Date(value).getTime();
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

// origin shows a callback as scheme and host only, whatever the server sent.
export function origin(callback) {
  try {
    const u = new URL(callback);
    return `${u.protocol}//${u.host}`;
  } catch {
    return callback ? '(hidden)' : '–';
  }
}

// words turns an API value such as deadLetter into "dead letter".
export function words(value) {
  return String(value).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

// badge is a coloured label for a status or outcome; its class keeps the API's value.
export function badge(value) {
  if (!value) return el('span', { class: 'badge', text: '–' });
  return el('span', { class: 'badge b-' + String(value).replace(/[^A-Za-z]/g, ''), title: String(value), text: words(value) });
}
