// Live counters: the tenant's figures from /stats, polled every few seconds while shown.

import { el, show, when } from './dom.js';
import { api, getConfig } from './session.js';

const LABELS = {
  accepted: 'accepted', stale: 'stale',
  delivered: 'delivered', retried: 'retried', deadLettered: 'dead-lettered', withheld: 'withheld',
  putOff: 'put off', subscriptionDead: 'subscription dead',
  active: 'active', suspended: 'suspended', dead: 'dead',
};

// ordered lists the known keys first, in a reading order, then any others the server adds.
function ordered(counts, keys) {
  const all = Object.entries(counts || {});
  const known = keys.filter((k) => k in (counts || {})).map((k) => [k, counts[k]]);
  return known.concat(all.filter(([k]) => !keys.includes(k)));
}

function card(title, entries) {
  return el('section', { class: 'card counters' }, el('h2', { text: title }),
    entries.length === 0
      ? el('p', { class: 'muted', text: 'None so far.' })
      : el('dl', {}, entries.map(([key, value]) => [
        el('dt', { text: LABELS[key] || key }),
        el('dd', { 'data-counter': key, text: String(value) })])));
}

// countersView shows the counters and returns the function that stops the polling.
export async function countersView() {
  const stamp = el('p', { class: 'muted', id: 'counters-updated', text: 'Loading…' });
  const body = el('div', { class: 'cards' });
  show(el('h1', { text: 'Live counters' }), stamp, body);
  let stopped = false;
  let timer = 0;
  const every = Math.max(1, (getConfig().statsEverySeconds || 3)) * 1000;
  const tick = async () => {
    try {
      const s = await api('GET', '/stats');
      const ev = s.events || {};
      const dropped = Object.entries(ev.dropped || {}).map(([reason, n]) => [`dropped: ${reason}`, n]);
      body.replaceChildren(
        card('Events', [['accepted', ev.accepted || 0], ['stale', ev.stale || 0], ...dropped]),
        card('Deliveries', ordered(s.deliveries, ['delivered', 'retried', 'deadLettered', 'subscriptionDead', 'withheld', 'putOff'])),
        card('Subscriptions', ordered(s.subscriptions, ['active', 'suspended', 'dead'])),
        el('section', { class: 'card counters' }, el('h2', { text: 'Queues' }),
          (s.queues || []).length === 0 ? el('p', { class: 'muted', text: 'No queue figures.' })
            : el('table', { class: 'grid' },
              el('thead', {}, el('tr', {}, ['Queue', 'Depth', 'Oldest'].map((t) => el('th', { text: t })))),
              el('tbody', {}, s.queues.map((q) => el('tr', {},
                el('td', { text: q.name }), el('td', { class: 'num', text: String(q.depth) }),
                el('td', { class: 'num', text: `${Math.round(q.oldestAgeSeconds || 0)} s` })))))));
      stamp.textContent = `Tenant ${s.tenantId}; counting since ${when(s.since)}; updated ${when(new Date())}, every ${every / 1000} s.`;
      stamp.classList.remove('error');
    } catch (e) {
      stamp.textContent = e.status === 404 && e.code !== 'NotFound'
        ? 'This server does not offer counters.'
        : e.message;
      stamp.classList.add('error');
    }
    if (!stopped) timer = setTimeout(tick, every);
  };
  await tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
