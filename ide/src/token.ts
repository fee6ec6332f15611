/**
 * Where the IDE's credentials come from: the `#token=` fragment of the page URL. A fragment is
 * never sent in HTTP requests, so the token only ever travels inside the WebSocket URL to this
 * page's own host. It is kept in sessionStorage (reload keeps working) and removed from the
 * address bar, so it does not end up in screenshots or shared links.
 */

export type Role = 'owner' | 'write' | 'read';

export interface Identity {
  token: string;
  userId: number;
  name: string;
  role: Role;
}

const STORAGE_KEY = 'goval.token';
const STRENGTH: Role[] = ['read', 'write', 'owner'];

export function takeToken(): string {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const fromHash = params.get('token');
  if (fromHash !== null) {
    window.sessionStorage.setItem(STORAGE_KEY, fromHash);
    const clean = window.location.pathname + window.location.search;
    window.history.replaceState(null, '', clean);
    return fromHash;
  }
  return window.sessionStorage.getItem(STORAGE_KEY) ?? '';
}

function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) return {};
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * What the token says about us. Only a display hint (the server checks every command): a token
 * we cannot read, or none (a `--no-auth` server), means the server's local owner.
 */
export function identityOf(token: string): Identity {
  const claims = claimsOf(token);
  if (!token || Object.keys(claims).length === 0) {
    return { token, userId: 1, name: 'local', role: 'owner' };
  }
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  let role: Role = 'read';
  for (const candidate of roles) {
    const index = STRENGTH.indexOf(candidate as Role);
    if (index > STRENGTH.indexOf(role)) role = STRENGTH[index];
  }
  const sub = Number(claims.sub);
  return {
    token,
    userId: Number.isFinite(sub) ? sub : 0,
    name: typeof claims.name === 'string' ? claims.name : 'anonymous',
    role,
  };
}
