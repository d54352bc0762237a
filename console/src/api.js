// The console's one door to the server: same-origin requests carrying the
// session cookie, the CSRF header on every state-changing request, and
// problem+json answers turned into thrown `Problem`s the pages can show.

/** The signed-in session (`GET /console/session`), once loaded. */
export const session = { user: null, csrf: null, expires: null, projects: [] };

/** An RFC 9457 problem answered by the server, with its status. */
export class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

/** Sends `method path` with an optional JSON `body`; resolves to the parsed answer. */
export async function request(method, path, body) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (method !== 'GET' && method !== 'HEAD') {
    headers['X-CSRF-Token'] = session.csrf || '';
    if (body !== undefined) headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = response.headers.get('content-type') || '';
  const parsed = type.includes('json') ? await response.json().catch(() => null) : await response.text();
  if (response.status === 401 && path !== '/console/session') {
    // The session ended (expired, signed out elsewhere, server restarted): back to the sign-in page.
    dispatchEvent(new CustomEvent('shipwarden:signed-out'));
  }
  if (!response.ok) throw new Problem(response.status, typeof parsed === 'object' ? parsed : { detail: parsed });
  return parsed;
}

const early = new Map();

/** Starts `GET path` now, for the first `get(path)` to take (the board's rows load with the session). */
export function prefetch(path) {
  const pending = request('GET', path);
  pending.catch(() => {}); // whoever takes it sees the failure
  early.set(path, pending);
}

/** `GET path`. */
export function get(path) {
  const pending = early.get(path);
  early.delete(path);
  return pending ?? request('GET', path);
}
/** `POST path` with `body`. */
export const post = (path, body) => request('POST', path, body ?? {});

/** Loads the session; false when nobody is signed in (401). */
export async function loadSession() {
  try {
    Object.assign(session, await get('/console/session'));
    return true;
  } catch (e) {
    if (e instanceof Problem && e.status === 401) return false;
    throw e;
  }
}

/** The session's roles in `project` (none when it is not visible). */
export function rolesIn(project) {
  return session.projects.find((p) => p.name === project)?.roles ?? [];
}

// Who may do what, as the default policy (core/src/policy/defaults.rs) has it.
// Only to decide which controls to show: the API decides, and refuses anyway.
const MAY = {
  cancel: ['release_manager', 'product_owner', 'cto'],
  rollback: ['deployment_engineer', 'release_manager', 'tech_lead', 'cto'],
};

/** True when `roles` may `action` (`cancel`, `rollback`, or any other action a project member may try). */
export function may(roles, action) {
  if (!roles.length) return false;
  const needed = MAY[action];
  return !needed || roles.some((r) => needed.includes(r));
}

/** Follows a console link without reloading. */
export function navigate(to) {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}
