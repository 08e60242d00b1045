// One subscription's delivery attempts, newest first, a page at a time.

import { el, show, table, when, badge } from './dom.js';
import { api } from './session.js';

// PAGE is the page size unless the address asks for another (#/subscriptions/{id}?limit=10).
const PAGE = 25;

export async function attemptsView(id, limitParam) {
  const asked = Number.parseInt(limitParam || '', 10);
  const limit = asked >= 1 && asked <= 200 ? asked : PAGE;
  // pages holds the token of each page shown so far; the first page has none.
  const pages = [''];
  const body = el('div', {}, el('p', { class: 'muted', text: 'Loading…' }));
  const newer = el('button', { id: 'attempts-newer', disabled: true }, '← Newer');
  const older = el('button', { id: 'attempts-older', disabled: true }, 'Older →');
  const refresh = el('button', { id: 'attempts-refresh' }, 'Refresh');
  show(
    el('p', {}, el('a', { href: '#/subscriptions', text: '← Subscriptions' })),
    el('h1', {}, 'Attempts of ', el('span', { class: 'mono', text: id })),
    el('div', { class: 'toolbar' },
      el('div', { class: 'inline' }, refresh, newer, older),
      el('a', { href: `#/dead-letters?subscriptionId=${encodeURIComponent(id)}`, text: 'Dead letters of this subscription' })),
    body);

  let next = '';
  const load = async () => {
    newer.disabled = older.disabled = true;
    let page;
    try {
      page = await api('GET', `/subscriptions/${encodeURIComponent(id)}/attempts`, { query: { limit: String(limit), next: pages[pages.length - 1] } });
    } catch (e) {
      body.replaceChildren(el('p', { class: 'notice error', text: e.message }));
      return;
    }
    next = page.next || '';
    const rows = (page.items || []).map((a) => el('tr', { 'data-outcome': a.outcome },
      el('td', { text: when(a.time) }),
      el('td', {}, el('span', { class: 'mono', text: a.eventId }), el('div', { class: 'muted small', text: [a.eventKind, a.event].filter(Boolean).join(' · ') })),
      el('td', { class: 'num', text: String(a.attempt) }),
      el('td', { class: 'num', text: a.status ? String(a.status) : '–' }),
      el('td', { class: 'num', text: typeof a.latencyMs === 'number' ? `${a.latencyMs.toFixed(1)} ms` : '–' }),
      el('td', {}, badge(a.outcome)),
      el('td', { text: a.errorClass || '' })));
    body.replaceChildren(table(['Time', 'Event', 'Attempt', 'Status', 'Latency', 'Outcome', 'Error class'], rows,
      pages.length > 1 ? 'No older attempts.' : 'No attempts recorded in the last 7 days.'));
    newer.disabled = pages.length <= 1;
    older.disabled = !next;
  };
  refresh.addEventListener('click', () => { pages.length = 1; load(); });
  newer.addEventListener('click', () => { if (pages.length > 1) { pages.pop(); load(); } });
  older.addEventListener('click', () => { if (next) { pages.push(next); load(); } });
  await load();
}
