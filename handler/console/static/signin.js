// Sign-in: Entra ID with authorization code and PKCE (as single-page apps do), the dev
// issuer's POST /dev/token in dev mode, or a pasted access token.

import { el, show, notify } from './dom.js';
import { getConfig, signIn, publicJSON } from './session.js';

const KEY_PKCE = 'nimbus.console.pkce';

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function redirectURI() {
  return location.origin + '/console/';
}

// startEntra sends the browser to the authorize endpoint with a fresh PKCE verifier and
// state, both kept in sessionStorage until the answer comes back.
async function startEntra() {
  const cfg = getConfig();
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem(KEY_PKCE, JSON.stringify({ verifier, state, hash: location.hash }));
  const u = new URL(cfg.authority + '/oauth2/v2.0/authorize');
  u.search = new URLSearchParams({
    client_id: cfg.clientId,
    response_type: 'code',
    response_mode: 'query',
    redirect_uri: redirectURI(),
    scope: cfg.scope,
    code_challenge: b64url(new Uint8Array(digest)),
    code_challenge_method: 'S256',
    state,
    prompt: 'select_account',
  }).toString();
  location.assign(u.toString());
}

// finishEntra redeems the authorization code in the page's query at the token endpoint.
// It returns true when the page came back from a sign-in (whether it worked or not).
export async function finishEntra() {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return false;
  const saved = JSON.parse(sessionStorage.getItem(KEY_PKCE) || 'null');
  sessionStorage.removeItem(KEY_PKCE);
  // The code must not stay in the address bar or the history.
  history.replaceState(null, '', '/console/' + ((saved && saved.hash) || ''));
  if (params.has('error')) {
    notify(`Sign-in failed: ${params.get('error_description') || params.get('error')}`, 'error');
    return true;
  }
  if (!saved || saved.state !== params.get('state')) {
    notify('The sign-in answer does not belong to a sign-in started here; sign in again.', 'error');
    return true;
  }
  const cfg = getConfig();
  try {
    const res = await fetch(cfg.authority + '/oauth2/v2.0/token', {
      method: 'POST',
      body: new URLSearchParams({
        client_id: cfg.clientId, grant_type: 'authorization_code', code: params.get('code'),
        redirect_uri: redirectURI(), code_verifier: saved.verifier, scope: cfg.scope,
      }),
    });
    const data = await res.json();
    if (!res.ok || !data.access_token) throw new Error(data.error_description || `The token endpoint answered ${res.status}.`);
    signIn(data.access_token);
  } catch (e) {
    notify(`Sign-in failed: ${e.message}`, 'error');
  }
  return true;
}

// signInView shows every sign-in the server offers; done runs after a successful one.
export async function signInView(done) {
  const cfg = getConfig();
  const sections = [];
  if (cfg.clientId) {
    sections.push(el('section', { class: 'card' },
      el('h2', { text: 'Microsoft Entra ID' }),
      el('p', { text: 'Sign in with your work account. Tenant admins see their tenant; flow owners open their own subscriptions.' }),
      el('button', { class: 'primary', id: 'entra-signin', onclick: () => startEntra().catch((e) => notify(e.message, 'error')) }, 'Sign in with Microsoft')));
  }
  if (cfg.devAuth) sections.push(await devSection(done));
  sections.push(tokenSection(done));
  show(el('h1', { text: 'Sign in' }), el('div', { class: 'cards' }, sections));
}

async function devSection(done) {
  let demo = null;
  try { demo = await publicJSON('/dev/demo'); } catch { /* no demo tenant seeded */ }
  const users = demo ? Object.entries(demo.users || {}) : [];
  const kind = el('select', { id: 'dev-kind', name: 'kind' },
    el('option', { value: 'user', text: 'A user of a tenant' }),
    el('option', { value: 'app', text: 'The operator (app token with Nimbus.Admin)' }));
  const tenant = el('input', { id: 'dev-tenant', name: 'tenant', required: true, size: 38, value: demo ? demo.tenantId : '' });
  const upn = el('input', { id: 'dev-upn', name: 'upn', list: 'dev-users', size: 30, value: demo ? demo.users.tenantAdmin : '' });
  const list = el('datalist', { id: 'dev-users' }, users.map(([role, name]) => el('option', { value: name, text: role })));
  const upnRow = el('label', {}, 'User (UPN) ', upn, list);
  const tenantLabel = el('span', { text: 'Tenant' });
  const sync = () => {
    upnRow.hidden = kind.value === 'app';
    tenantLabel.textContent = kind.value === 'app' ? 'Tenant to act on' : 'Tenant';
  };
  kind.addEventListener('change', sync);
  const form = el('form', { id: 'dev-form', class: 'stack' },
    el('label', {}, 'Sign in as ', kind),
    el('label', {}, tenantLabel, tenant),
    upnRow,
    el('button', { class: 'primary', type: 'submit' }, 'Get a dev token'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const app = kind.value === 'app';
    const req = app
      ? { tenantId: demo ? demo.operatorTenantId : tenant.value.trim(), appId: 'nimbus-console', roles: ['Nimbus.Admin'] }
      : { tenantId: tenant.value.trim(), upn: upn.value.trim() };
    try {
      const tok = await publicJSON('/dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(req) });
      signIn(tok.access_token, app ? tenant.value.trim() : '');
      done();
    } catch (e) {
      notify(e.message, 'error');
    }
  });
  return el('section', { class: 'card' },
    el('h2', { text: 'Development sign-in' }),
    el('p', { text: demo
      ? 'Dev auth is on: mint a token for a demo user, or act as the operator on a tenant.'
      : 'Dev auth is on: mint a token for a user of a tenant, or act as the operator on a tenant.' }),
    form);
}

function tokenSection(done) {
  const token = el('textarea', { id: 'paste-token', rows: 3, cols: 40, placeholder: 'eyJ…', spellcheck: 'false' });
  const tenant = el('input', { id: 'paste-tenant', size: 38, placeholder: 'only for an application token' });
  const form = el('form', { class: 'stack' },
    el('label', {}, 'Access token ', token),
    el('label', {}, 'Tenant to act on ', tenant),
    el('button', { type: 'submit' }, 'Use this token'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    try {
      signIn(token.value.trim(), tenant.value.trim());
      done();
    } catch (e) {
      notify(e.message, 'error');
    }
  });
  return el('section', { class: 'card' },
    el('h2', { text: 'An access token you already have' }),
    el('p', { text: 'For operator tooling: an app token with Nimbus.Admin acts on the tenant you name here.' }),
    form);
}
