// The board: releases by stage, filtered by project, kind, environment and
// stage, one page of the API at a time (`limit`/`offset`), so a thousand
// releases cost one small request and one small render.

import { useEffect, useRef, useState } from 'preact/hooks';

import { get, session } from './api.js';
import { Link, Loading } from './parts.jsx';

const PAGE = 100;
const KINDS = ['major', 'minor', 'patch', 'emergency'];
// The built-in stage order; a stage the policy adds comes after these.
export const STAGE_ORDER = [
  'planned', 'scope_approved', 'built', 'staging_deployed', 'qa_verified', 'integration_tested',
  'test_deployed', 'accepted', 'prod_ready', 'deploying', 'verifying', 'released', 'rolling_back',
  'rolled_back', 'cancelled', 'closed',
];

/** The id of a release row of the list. */
export const releaseId = (r) => r.release;

/** The stages and environments of the session's projects' policies (the built-in ones until they come). */
function usePolicies() {
  const [known, setKnown] = useState({ stages: STAGE_ORDER, environments: ['dev', 'staging', 'test', 'prod'] });
  useEffect(() => {
    Promise.all(session.projects.map((p) => get(`/v1/projects/${encodeURIComponent(p.name)}/policy`).catch(() => null))).then(
      (policies) => {
        const found = policies.filter(Boolean);
        if (!found.length) return;
        const stages = [...new Set(found.flatMap((p) => p.stages || []))];
        const environments = [...new Set(found.flatMap((p) => (p.environments || []).map((e) => e.name)))];
        setKnown({ stages: stages.length ? stages : STAGE_ORDER, environments });
      },
    );
  }, []);
  return known;
}

function lanes(releases, order) {
  const groups = new Map();
  for (const r of releases) {
    const stage = r.stage || 'unknown';
    if (!groups.has(stage)) groups.set(stage, []);
    groups.get(stage).push(r);
  }
  const rank = (s) => (order.includes(s) ? order.indexOf(s) : order.length);
  return [...groups].sort((a, b) => rank(a[0]) - rank(b[0]));
}

/** The filters and offset of the board's address (`?project=…&offset=…`). */
export function boardState(search) {
  const params = new URLSearchParams(search);
  const filters = {};
  for (const k of ['project', 'kind', 'environment', 'stage']) filters[k] = params.get(k) || '';
  return { filters, offset: Number(params.get('offset')) || 0 };
}

/** The board's address query and the API path of its page of releases. */
export function boardQuery(filters, offset) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  if (offset) q.set('offset', String(offset));
  const shown = q.toString();
  q.set('limit', String(PAGE));
  return [shown, `/v1/releases?${q}`];
}

/** The board page. */
export function Board() {
  const initial = boardState(location.search);
  const [filters, setFilters] = useState(initial.filters);
  const [offset, setOffset] = useState(initial.offset);
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const marked = useRef(false);

  useEffect(() => {
    const [shown, path] = boardQuery(filters, offset);
    history.replaceState(null, '', `/console/${shown ? `?${shown}` : ''}`);
    let live = true;
    setError(null);
    get(path).then(
      (p) => live && setPage(p),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [filters, offset]);

  useEffect(() => {
    if (page?.releases?.length && !marked.current) {
      marked.current = true;
      performance.mark('board:first-row');
    }
  }, [page]);

  const set = (key) => (e) => {
    setOffset(0);
    setFilters({ ...filters, [key]: e.currentTarget.value });
  };
  const { stages, environments } = usePolicies();

  return (
    <section aria-labelledby="board-title">
      <h1 id="board-title">Releases</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter releases">
        <label>
          Project
          <select value={filters.project} onChange={set('project')}>
            <option value="">all</option>
            {session.projects.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select value={filters.kind} onChange={set('kind')}>
            <option value="">all</option>
            {KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          Environment
          <select value={filters.environment} onChange={set('environment')}>
            <option value="">all</option>
            {environments.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          Stage
          <select value={filters.stage} onChange={set('stage')}>
            <option value="">all</option>
            {stages.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
      </form>
      {!page ? (
        <Loading error={error} />
      ) : (
        <>
          {error && <Loading error={error} />}
          <p class="muted" aria-live="polite">
            {page.releases.length
              ? `Releases ${offset + 1}–${offset + page.releases.length}`
              : 'No release matches these filters.'}
            {page.mismatches?.length ? ` · ${page.mismatches.length} listing rows disagree with their audit chains` : ''}
          </p>
          <div class="board">
            {lanes(page.releases, stages).map(([stage, rows]) => (
              <section class="lane" key={stage} aria-labelledby={`lane-${stage}`}>
                <h2 id={`lane-${stage}`}>
                  {stage.replaceAll('_', ' ')} <span class="count">{rows.length}</span>
                </h2>
                <ul>
                  {rows.map((r) => (
                    <li class="release-row" key={releaseId(r)} data-release={releaseId(r)}>
                      <Link href={`/console/releases/${encodeURIComponent(releaseId(r))}`}>{releaseId(r)}</Link>
                      <span class={`kind kind-${r.kind}`}>{r.kind}</span>
                    </li>
                  ))}
                </ul>
              </section>
            ))}
          </div>
          <nav class="pager" aria-label="Pages of releases">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Previous
            </button>
            <button type="button" disabled={page.next_offset == null} onClick={() => setOffset(page.next_offset)}>
              Next
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
