// The console's entry point: loads the config, finishes an Entra sign-in when the page comes
// back from one, and routes on the location hash (#/subscriptions, #/subscriptions/{id},
// #/dead-letters, #/counters).

import { el, notify, show } from './dom.js';
import { current, setConfig, setTenant, signOut } from './session.js';
import { finishEntra, signInView } from './signin.js';
import { subscriptionsView } from './subscriptions.js';
import { attemptsView } from './attempts.js';
import { deadLettersView } from './deadletters.js';
import { countersView } from './counters.js';

// leave stops what the current view runs in the background (the counters' polling).
let leave = () => {};

function header(s) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  nav.hidden = !s;
  who.hidden = !s;
  if (!s) {
    who.replaceChildren();
    return;
  }
  const parts = [el('span', { class: 'name', id: 'who-name', text: s.name })];
  if (s.isApp) {
    const tenant = el('input', { id: 'acting-tenant', size: 38, value: s.tenant, 'aria-label': 'Tenant to act on', placeholder: 'tenant id' });
    tenant.addEventListener('change', () => {
      setTenant(tenant.value.trim());
      route();
    });
    parts.push(el('label', { class: 'tenant' }, 'tenant ', tenant));
  } else {
    parts.push(el('span', { class: 'tenant muted', title: 'Tenant', text: s.tenant }));
  }
  parts.push(el('button', { id: 'sign-out', onclick: () => { signOut(); location.hash = '#/'; route(); } }, 'Sign out'));
  who.replaceChildren(...parts);
}

function markNav(view) {
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  leave();
  leave = () => {};
  const s = current();
  header(s);
  if (!s) {
    markNav('');
    await signInView(() => { notify('Signed in.'); route(); });
    return;
  }
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === 'subscriptions' && parts[1]) {
      markNav('subscriptions');
      await attemptsView(parts[1], params.get('limit'));
    } else if (parts[0] === 'dead-letters') {
      markNav('dead-letters');
      await deadLettersView(params.get('subscriptionId') || '');
    } else if (parts[0] === 'counters') {
      markNav('counters');
      leave = await countersView();
    } else {
      markNav('subscriptions');
      await subscriptionsView(params.get('status') || 'active');
    }
  } catch (e) {
    show(el('p', { class: 'notice error', text: e.message }));
  }
}

async function main() {
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    setConfig(await res.json());
  } catch {
    notify('The console could not load its settings; reload the page.', 'error');
  }
  await finishEntra();
  window.addEventListener('hashchange', route);
  window.addEventListener('nimbus:signedout', () => {
    notify('Your sign-in has expired or was refused; sign in again.', 'error');
    route();
  });
  await route();
}

main();
