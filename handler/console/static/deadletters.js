// Dead letters with replay: one, a selection, or everything in a time range.

import { el, show, table, when, notify } from './dom.js';
import { api } from './session.js';

function replayed(n) {
  return n === 1 ? 'Replayed 1 dead letter; it is queued for delivery again.' : `Replayed ${n} dead letters; they are queued for delivery again.`;
}

// isoFromLocal turns a datetime-local value into an RFC 3339 UTC timestamp.
function isoFromLocal(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export async function deadLettersView(subscriptionId) {
  const filter = el('input', { id: 'dl-subscription', size: 38, value: subscriptionId, placeholder: 'all subscriptions', 'aria-label': 'Subscription id' });
  const filterForm = el('form', { class: 'inline' }, el('label', {}, 'Subscription ', filter), el('button', { type: 'submit' }, 'Filter'));
  filterForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = filter.value.trim();
    location.hash = v ? `#/dead-letters?subscriptionId=${encodeURIComponent(v)}` : '#/dead-letters';
  });
  const since = el('input', { id: 'dl-since', type: 'datetime-local', step: 1, 'aria-label': 'Since' });
  const until = el('input', { id: 'dl-until', type: 'datetime-local', step: 1, 'aria-label': 'Until' });
  const rangeForm = el('form', { class: 'inline', id: 'dl-range' },
    el('label', {}, 'From ', since), el('label', {}, 'to ', until),
    el('button', { type: 'submit' }, 'Replay this time range'));
  const selected = el('button', { id: 'dl-replay-selected', class: 'primary', disabled: true }, 'Replay selected');
  const body = el('div', {}, el('p', { class: 'muted', text: 'Loading…' }));
  show(el('h1', { text: 'Dead letters' }),
    el('p', { class: 'muted', text: 'Deliveries that failed for good or ran out of retries. Replaying queues them again with the same webhook-id.' }),
    el('div', { class: 'toolbar' }, filterForm, selected), body,
    el('h2', { text: 'Replay by time range' }),
    el('p', { class: 'muted', text: 'Replays every dead letter of the tenant (of the subscription, when one is filtered) that failed in the range; either end may stay open.' }),
    rangeForm);

  const replay = async (req) => {
    if (subscriptionId && !req.ids) req.subscriptionId = subscriptionId;
    try {
      const res = await api('POST', '/delivery-failures/replay', { body: req });
      notify(replayed(res.replayed), 'ok');
    } catch (e) {
      notify(e.message, 'error');
    }
    await load();
  };
  rangeForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const req = { since: isoFromLocal(since.value), until: isoFromLocal(until.value) };
    if (!req.since && !req.until) {
      notify('Give a start or an end of the time range to replay.', 'error');
      return;
    }
    replay(req);
  });

  let boxes = [];
  const sync = () => {
    const n = boxes.filter((b) => b.checked).length;
    selected.disabled = n === 0;
    selected.textContent = n ? `Replay selected (${n})` : 'Replay selected';
  };
  selected.addEventListener('click', () => {
    const ids = boxes.filter((b) => b.checked).map((b) => b.value);
    if (ids.length) replay({ ids });
  });

  const load = async () => {
    let list;
    try {
      list = await api('GET', '/delivery-failures', { query: { subscriptionId } });
    } catch (e) {
      body.replaceChildren(el('p', { class: 'notice error', text: e.message }));
      return;
    }
    list.reverse(); // newest first
    boxes = list.map((f) => el('input', { type: 'checkbox', value: f.id, 'aria-label': `Select ${f.eventId}`, onchange: sync }));
    const all = el('input', { type: 'checkbox', 'aria-label': 'Select all', onchange: (ev) => { boxes.forEach((b) => { b.checked = ev.target.checked; }); sync(); } });
    const rows = list.map((f, i) => el('tr', { 'data-id': f.id },
      el('td', {}, boxes[i]),
      el('td', { text: when(f.failedAt) }),
      el('td', {}, el('a', { class: 'mono', href: `#/subscriptions/${encodeURIComponent(f.subscriptionId)}`, text: f.subscriptionId })),
      el('td', { class: 'mono', text: f.eventId }),
      el('td', { class: 'num', text: String(f.attempts) }),
      el('td', { class: 'num', text: f.lastStatus ? String(f.lastStatus) : '–' }),
      el('td', { text: f.lastError || '' }),
      el('td', {}, el('button', { class: 'replay-one', onclick: () => replay({ ids: [f.id] }) }, 'Replay'))));
    const t = table(['', 'Failed at', 'Subscription', 'Event', 'Attempts', 'Last status', 'Last error', ''], rows, 'No dead letters.');
    if (rows.length) t.querySelector('thead th').replaceChildren(all);
    body.replaceChildren(el('p', { class: 'muted', id: 'dl-count', text: `${list.length} dead letter${list.length === 1 ? '' : 's'}.` }), t);
    sync();
  };
  await load();
}
