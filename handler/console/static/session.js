// The signed-in session and the admin API client. The token lives in sessionStorage only:
// it goes with the tab and is never written anywhere that outlives it.

const KEY_TOKEN = 'nimbus.console.token';
const KEY_TENANT = 'nimbus.console.tenant';

let config = { adminBase: '/manage/v1', devAuth: false, statsEverySeconds: 3 };

export function setConfig(c) { config = c; }
export function getConfig() { return config; }

// claims decodes a JWT's payload for display (who, which tenant, until when). The server
// validates the token on every call; nothing here trusts these claims.
export function claims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '='));
    return JSON.parse(decodeURIComponent(Array.from(json, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join('')));
  } catch {
    return null;
  }
}

// current is the session, or null when nobody is signed in or the token has expired.
export function current() {
  const token = sessionStorage.getItem(KEY_TOKEN);
  if (!token) return null;
  const c = claims(token);
  if (!c) return null;
  if (c.exp && c.exp * 1000 < Date.now()) {
    signOut();
    return null;
  }
  const isApp = c.idtyp === 'app' || (!c.upn && !c.preferred_username && !c.unique_name);
  return {
    token,
    isApp,
    name: c.upn || c.preferred_username || c.unique_name || c.azp || c.appid || 'application',
    tokenTenant: c.tid || '',
    roles: c.roles || [],
    tenant: isApp ? (sessionStorage.getItem(KEY_TENANT) || '') : (c.tid || ''),
  };
}

// signIn keeps token (and, for an app token, the tenant it acts on).
export function signIn(token, tenant) {
  const c = claims(token);
  if (!c) throw new Error('That is not an access token (a JWT with three dot-separated parts).');
  sessionStorage.setItem(KEY_TOKEN, token);
  if (tenant) sessionStorage.setItem(KEY_TENANT, tenant);
  else sessionStorage.removeItem(KEY_TENANT);
}

export function setTenant(tenant) { sessionStorage.setItem(KEY_TENANT, tenant); }

export function signOut() {
  sessionStorage.removeItem(KEY_TOKEN);
  sessionStorage.removeItem(KEY_TENANT);
}

// ApiError is a failed admin API call with the server's own message.
export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// api calls the admin API at path (below the admin base) with the session's token. An app
// token names its tenant with ?tenantId=, as the admin API asks.
export async function api(method, path, { query = {}, body } = {}) {
  const s = current();
  if (!s) throw new ApiError(401, 'You are not signed in.');
  const url = new URL(config.adminBase + path, location.origin);
  if (s.isApp && s.tenant) url.searchParams.set('tenantId', s.tenant);
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  const headers = { Authorization: 'Bearer ' + s.token, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'The server cannot be reached; check the connection and try again.');
  }
  let data = null;
  try { data = await res.json(); } catch { /* an empty or non-JSON answer */ }
  if (res.status === 401) {
    signOut();
    window.dispatchEvent(new Event('nimbus:signedout'));
  }
  if (!res.ok) {
    const e = data && data.error;
    throw new ApiError(res.status, (e && e.message) || `The server answered ${res.status}.`, e && e.code);
  }
  return data;
}

// publicJSON fetches an unauthenticated JSON document of the server (dev routes).
export async function publicJSON(path, init) {
  const res = await fetch(path, { cache: 'no-store', ...init });
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const e = data && data.error;
    throw new ApiError(res.status, (e && e.message) || `The server answered ${res.status}.`, e && e.code);
  }
  return data;
}
