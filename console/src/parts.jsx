// Pieces every page uses: links that do not reload, requirement texts, and the
// view of a refusal (its rule, its stage and each unmet requirement).

import { navigate } from './api.js';

/** A console link, followed without a reload. */
export function Link({ href, children, ...rest }) {
  const go = (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={go} {...rest}>
      {children}
    </a>
  );
}

/** A measured value as the API serializes it (a number or `{value, unit}`). */
export function measure(m) {
  if (m === null || m === undefined) return 'nothing recorded';
  if (typeof m === 'object') return 'value' in m ? `${m.value}${m.unit && m.unit !== 'count' && m.unit !== 'flag' ? ` ${m.unit}` : ''}` : JSON.stringify(m);
  return String(m);
}

/** A threshold as serialized (`{"at_least": 0.9}`) or already in words. */
export function threshold(t) {
  if (t === null || t === undefined) return '';
  if (typeof t !== 'object') return String(t);
  return Object.entries(t)
    .map(([k, v]) => `${k.replaceAll('_', ' ')} ${v}`)
    .join(', ');
}

/** One unmet requirement in words. */
export function requirementText(u) {
  switch (u.requirement) {
    case 'approval':
      return `approval "${u.approval}" by ${(u.roles || []).join(' or ')}: ${u.have ?? 0} of ${u.needed ?? 1}${
        u.given_by?.length ? ` (given by ${u.given_by.join(', ')})` : ''
      }`;
    case 'gate':
      return `gate "${u.gate}"${u.environment ? ` in ${u.environment}` : ''}${u.target ? ` on ${u.target}` : ''}: ${measure(
        u.measured,
      )}, needs ${threshold(u.threshold)}${u.items?.length ? ` (${u.items.join(', ')})` : ''}`;
    case 'step':
      return `step "${u.step}"${u.environment ? ` in ${u.environment}` : ''}: ${u.status}`;
    case 'step_in_doubt':
      return `step in doubt ${u.key}: ${u.detail}`;
    case 'role':
      return `${u.user} needs one of the roles ${(u.needed || []).join(', ')}`;
    case 'rejected':
      return `approval "${u.approval}" rejected by ${u.user} (${u.role})${u.at ? ` on ${when(u.at)}` : ''}: ${
        u.reason
      } (it stands until ${u.user} approves)`;
    case 'duplicate_rejection':
      return `${u.user} already rejected "${u.approval}" and has not approved it since`;
    case 'duplicate_approval':
      return `${u.user} already gave "${u.approval}"`;
    default: {
      if (u.message) return u.message;
      const { rule: _rule, requirement, ...rest } = u;
      const details = Object.entries(rest)
        .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && !v.length))
        .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
        .join('; ');
      return `${(requirement || 'requirement').replaceAll('_', ' ')}${details ? ` (${details})` : ''}`;
    }
  }
}

/** Unmet requirements grouped by their rule: `[[rule, [unmet…]]…]`. */
export function byRule(unmet) {
  const groups = new Map();
  for (const u of unmet || []) {
    if (!groups.has(u.rule)) groups.set(u.rule, []);
    groups.get(u.rule).push(u);
  }
  return [...groups];
}

/** Unmet requirements as a list grouped by rule. */
export function UnmetList({ unmet }) {
  return (
    <ul class="unmet">
      {byRule(unmet).map(([rule, items]) => (
        <li key={rule}>
          <span class="rule">{rule}</span>
          <ul>
            {items.map((u, i) => (
              <li key={i}>{requirementText(u)}</li>
            ))}
          </ul>
        </li>
      ))}
    </ul>
  );
}

/** A problem from the server: for a refusal, its rule, stage and each unmet requirement. */
export function ProblemView({ problem }) {
  if (!problem) return null;
  const b = problem.body || {};
  return (
    <div class="problem" role="alert">
      <p>
        <strong>{b.title || 'Refused'}</strong>
        {problem.status >= 400 ? ` (${b.code ? `${b.code}, ` : ''}HTTP ${problem.status})` : ''}
        {b.detail ? `: ${b.detail}` : ''}
      </p>
      {b.rule && (
        <p>
          Rule <span class="rule">{b.rule}</span>
          {b.stage ? ` at stage ${b.stage}` : ''}
        </p>
      )}
      {b.unmet?.length ? <UnmetList unmet={b.unmet} /> : null}
    </div>
  );
}

/** A time in the reader's locale, as text. */
export function when(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? String(at) : d.toLocaleString();
}

/** Whether a rejection still stands: its author has not approved the same approval since (R-2b). */
export function standing(rejection, approvals) {
  const at = Date.parse(rejection.at);
  return !(approvals || []).some(
    (a) => a.approval === rejection.approval && a.user === rejection.user && Date.parse(a.at) >= at,
  );
}

/** A time in the reader's locale, with the exact instant as its machine value. */
export function When({ at }) {
  if (!at) return null;
  return <time datetime={at}>{when(at)}</time>;
}

/** A "loading" line or an error, while a page's data is on its way. */
export function Loading({ error }) {
  return error ? <ProblemView problem={error} /> : <p class="muted" aria-live="polite">Loading…</p>;
}
