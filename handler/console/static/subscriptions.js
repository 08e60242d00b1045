// Subscriptions by status, with owner, services and the last delivery outcome.

import { el, show, table, when, ago, origin, badge, notify } from './dom.js';
import { api } from './session.js';

export const STATUSES = ['active', 'suspended', 'dead', 'orphaned'];

// lastOutcomes fills each row's last-outcome cell from the newest attempt of its
// subscription, a few requests at a time.
async function lastOutcomes(cells) {
  const queue = [...cells];
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const [id, cell] = item;
      try {
        const page = await api('GET', `/subscriptions/${encodeURIComponent(id)}/attempts`, { query: { limit: '1' } });
        const a = page && page.items && page.items[0];
        cell.replaceChildren(a
          ? el('span', { title: when(a.time) }, badge(a.outcome), ' ', a.status ? String(a.status) : '', ' · ', ago(a.time))
          : el('span', { class: 'muted', text: 'no attempts yet' }));
      } catch (e) {
        cell.replaceChildren(el('span', { class: 'muted', title: e.message, text: '–' }));
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

export async function subscriptionsView(status) {
  if (!STATUSES.includes(status)) status = 'active';
  const tabs = el('nav', { class: 'tabs', 'aria-label': 'Status' }, STATUSES.map((s) =>
    el('a', { href: `#/subscriptions?status=${s}`, 'aria-current': s === status ? 'page' : false, 'data-status': s, text: s })));
  const open = el('input', { id: 'open-id', size: 38, placeholder: 'subscription id', 'aria-label': 'Subscription id' });
  const openForm = el('form', { class: 'inline' }, open, el('button', { type: 'submit' }, 'Open'));
  openForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (open.value.trim()) location.hash = `#/subscriptions/${encodeURIComponent(open.value.trim())}`;
  });
  const body = el('div', {}, el('p', { class: 'muted', text: 'Loading…' }));
  show(el('h1', { text: 'Subscriptions' }), el('div', { class: 'toolbar' }, tabs, openForm), body);

  let subs;
  try {
    subs = await api('GET', '/subscriptions', { query: { status } });
  } catch (e) {
    body.replaceChildren(el('p', { class: 'notice error', text: e.message }),
      el('p', { class: 'muted', text: 'Flow owners who are not tenant admins can still open their own subscription by its id.' }));
    return;
  }
  const cells = [];
  const rows = subs.map((s) => {
    const last = el('td', { class: 'last' }, el('span', { class: 'muted', text: '…' }));
    cells.push([s.id, last]);
    return el('tr', { 'data-id': s.id },
      el('td', {}, el('a', { href: `#/subscriptions/${encodeURIComponent(s.id)}`, class: 'mono', text: s.id })),
      el('td', { text: s.kind }),
      el('td', { text: s.owner }),
      el('td', { text: (s.services || []).join(', ') }),
      el('td', { text: (s.events || []).join(', ') }),
      el('td', { class: 'mono', text: origin(s.callback) }),
      el('td', {}, badge(s.status), s.orphaned ? el('span', { class: 'muted', text: ' orphaned' }) : '',
        s.statusReason ? el('div', { class: 'muted small', text: s.statusReason }) : ''),
      last,
      el('td', { title: when(s.updated), text: ago(s.updated) }));
  });
  body.replaceChildren(
    el('p', { class: 'muted', text: `${subs.length} ${status} subscription${subs.length === 1 ? '' : 's'}.` }),
    table(['Subscription', 'Kind', 'Owner', 'Services', 'Events', 'Callback', 'Status', 'Last outcome', 'Updated'], rows,
      `No ${status} subscriptions.`));
  lastOutcomes(cells).catch((e) => notify(e.message, 'error'));
}
