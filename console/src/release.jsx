// A release page: the stage path on the policy's graph, what each way forward
// still needs (grouped by rule), gates, approvals, artifacts, steps, notes,
// findings, duties, the audit chain's state and export, a live timeline from
// the release's server-sent events, and the actions the session's roles allow
// (an approval can be given or rejected with a reason, R-2b, R-2c).

import { useEffect, useRef, useState } from 'preact/hooks';

import { Problem, get, may, post, rolesIn, session } from './api.js';
import { Loading, ProblemView, UnmetList, When, measure, standing, threshold } from './parts.jsx';

const FINAL = ['rolled_back', 'cancelled', 'closed'];
const ROLLBACK_FROM = ['deploying', 'verifying', 'released'];
// Steps the engine runs itself (advance, deploy); the others people do and report.
const ENGINE_STEPS = ['build', 'publish_artifact', 'tag', 'deploy'];

/** An audit envelope, of the history or the live stream (`{sequence, at, actor, rule, event: {event, …}}`). */
function entry(e) {
  return { sequence: e.sequence, at: e.at, actor: e.actor, rule: e.rule, name: e.event?.event ?? 'event', detail: e };
}

function summary(ev) {
  const body = ev.detail.event || {};
  const keep = ['to', 'stage', 'approval', 'gate', 'value', 'step', 'environment', 'reason', 'comment', 'channel'];
  // A rejection's comment is its reason (R-2c).
  const label = (k) => (k === 'comment' && ev.name === 'rejected' ? 'reason' : k);
  return keep
    .filter((k) => body[k] !== undefined && body[k] !== '' && typeof body[k] !== 'object')
    .map((k) => `${label(k)} ${body[k]}`)
    .join(' · ');
}

/** The stage path on the policy's graph: visited, current, and the stages ahead. */
function StagePath({ policy, state }) {
  const stages = policy?.stages || state.path || [];
  const visited = new Set(state.path || []);
  return (
    <ol class="path" aria-label="Stage path">
      {stages.map((s) => {
        const current = s === state.stage;
        const cls = current ? 'current' : visited.has(s) ? 'done' : 'ahead';
        return (
          <li key={s} class={cls} aria-current={current ? 'step' : undefined} data-stage={s}>
            {s.replaceAll('_', ' ')}
            {current && <span class="sr-only"> (current stage)</span>}
          </li>
        );
      })}
    </ol>
  );
}

/** The release page for `id`. */
export function Release({ id }) {
  const [status, setStatus] = useState(null);
  const [error, setError] = useState(null);
  const [policy, setPolicy] = useState(null);
  const [extra, setExtra] = useState({});
  const [timeline, setTimeline] = useState([]);
  const [live, setLive] = useState('connecting');
  const [outcome, setOutcome] = useState(null);
  const [busy, setBusy] = useState(false);
  const seen = useRef(new Set());
  const base = `/v1/releases/${encodeURIComponent(id)}`;

  const refresh = () =>
    get(base).then(
      (s) => {
        setStatus(s);
        setError(null);
        return s;
      },
      (e) => setError(e),
    );
  const refreshSide = () =>
    Promise.all([
      get(`${base}/audit`).catch((e) => ({ problem: e })),
      get(`${base}/notes`).catch(() => null),
    ]).then(([audit, notes]) => setExtra((x) => ({ ...x, audit, notes })));

  const add = (items) =>
    setTimeline((t) => {
      const fresh = items.filter((i) => i.sequence === undefined || !seen.current.has(i.sequence));
      for (const i of fresh) if (i.sequence !== undefined) seen.current.add(i.sequence);
      return fresh.length ? [...t, ...fresh] : t;
    });

  useEffect(() => {
    seen.current = new Set();
    setTimeline([]);
    setStatus(null);
    refresh().then((s) => {
      const project = s?.state?.plan?.project;
      if (!project) return;
      get(`/v1/projects/${encodeURIComponent(project)}/policy`).then(setPolicy, () => setPolicy(null));
      get(`/v1/duties?project=${encodeURIComponent(project)}`).then(
        (d) => setExtra((x) => ({ ...x, duties: (Array.isArray(d) ? d : []).filter((u) => u.release === id && u.duty) })),
        () => {},
      );
    });
    refreshSide();
    // The history, then live from where it ends (`after`): every audit event and step log line.
    // EventSource resumes by itself with Last-Event-ID after a drop.
    let source;
    let closed = false;
    let timer;
    const listen = (after) => {
      if (closed) return;
      source = new EventSource(`${base}/events${after ? `?after=${after}` : ''}`);
      source.onopen = () => setLive('live');
      source.onerror = () => setLive('reconnecting');
      source.addEventListener('audit', onAudit);
      source.addEventListener('log', (m) => add([{ name: 'log', log: m.data, detail: {} }]));
    };
    get(`${base}/history`).then(
      (h) => {
        const items = (Array.isArray(h) ? h : []).map(entry);
        add(items);
        listen(items.at(-1)?.sequence);
      },
      () => listen(),
    );
    function onAudit(m) {
      let data;
      try {
        data = JSON.parse(m.data);
      } catch {
        return;
      }
      const e = entry(data);
      add([{ ...e, live: performance.now() }]);
      clearTimeout(timer);
      timer = setTimeout(() => {
        refresh();
        refreshSide();
      }, 50);
    }
    return () => {
      closed = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [id]);

  if (!status) return <Loading error={error} />;
  const state = status.state || {};
  const plan = state.plan || {};
  const project = plan.project;
  const roles = rolesIn(project);
  const final = FINAL.includes(state.stage);

  const act = async (what, path, body) => {
    setBusy(true);
    setOutcome(null);
    try {
      const result = await post(`${base}/${path}`, body);
      // A run that stopped before a decision says why (`advance`: waiting, with the refusal met).
      const stopped = result?.outcome?.refusal;
      setOutcome(
        stopped
          ? { ok: `${what}: ${result.outcome.outcome} at ${result.stage}.`, problem: new Problem(200, { title: 'Stopped', ...stopped }) }
          : { ok: result?.outcome ? `${what}: ${result.outcome.outcome} ${result.stage}.` : `${what}: done.` },
      );
      await refresh();
      refreshSide();
    } catch (e) {
      setOutcome({ problem: e instanceof Problem ? e : new Problem(0, { detail: String(e) }) });
    } finally {
      setBusy(false);
    }
  };

  const mine = (u) =>
    u.requirement === 'approval' &&
    u.roles?.some((r) => roles.includes(r)) &&
    !(u.given_by || []).includes(session.user) &&
    !(state.approvals || []).some((a) => a.approval === u.approval && a.user === session.user);
  const rejections = (state.rejections || []).map((r) => ({ ...r, standing: standing(r, state.approvals) }));
  // The session's own standing rejections: approving lifts one, rejecting again is refused (R-2d).
  const rejectedByMe = (a) => rejections.some((r) => r.standing && r.approval === a && r.user === session.user);
  const approvable = [];
  const gatesOpen = [];
  const stepsOpen = [];
  for (const [, refusal] of status.next || []) {
    for (const u of refusal?.unmet || []) {
      // An approval the session's roles can give, or its own rejection that only its approval lifts.
      const liftable = u.requirement === 'rejected' && u.user === session.user;
      if ((mine(u) || liftable) && !approvable.includes(u.approval)) approvable.push(u.approval);
      if (u.requirement === 'gate' && !gatesOpen.some((g) => g.gate === u.gate && g.environment === u.environment))
        gatesOpen.push(u);
      if (
        u.requirement === 'step' &&
        u.status === 'missing' &&
        !ENGINE_STEPS.includes(u.step) &&
        !stepsOpen.some((x) => x.step === u.step && x.environment === u.environment)
      )
        stepsOpen.push(u);
    }
  }
  const member = roles.length > 0;

  return (
    <article aria-labelledby="release-title" data-stage={state.stage}>
      <header class="release-head">
        <h1 id="release-title">{id}</h1>
        <p>
          <span class={`kind kind-${plan.kind}`}>{plan.kind}</span> · stage{' '}
          <strong class="stage" data-testid="stage">
            {state.stage}
          </strong>
          {state.author ? <> · planned by {state.author}</> : null}
          {' · '}
          <span class={`live live-${live}`} aria-live="polite">
            {live === 'live' ? 'live updates on' : live}
          </span>
        </p>
      </header>

      <section aria-labelledby="path-title">
        <h2 id="path-title">Stage path</h2>
        <StagePath policy={policy} state={state} />
        {policy?.transitions?.length ? (
          <details class="graph">
            <summary>The policy's graph ({policy.transitions.length} transitions; from here in bold)</summary>
            <ul>
              {policy.transitions.map((t, i) => (
                <li key={i} class={t.from === state.stage ? 'from-here' : undefined}>
                  {t.from} → {t.to}
                  {t.kinds?.length ? ` (only ${t.kinds.join(', ')})` : ''}
                  {[
                    t.approvals?.length && `approvals: ${t.approvals.join(', ')}`,
                    t.gates?.length && `gates: ${t.gates.join(', ')}`,
                    t.steps?.length && `steps: ${t.steps.join(', ')}`,
                  ]
                    .filter(Boolean)
                    .map((x) => ` · ${x}`)
                    .join('')}
                </li>
              ))}
            </ul>
          </details>
        ) : null}
      </section>

      <section aria-labelledby="next-title">
        <h2 id="next-title">Ways forward</h2>
        {final ? (
          <p>This release is in a final stage.</p>
        ) : (
          <ul class="ways">
            {(status.next || []).map(([stage, refusal]) => (
              <li key={stage} data-way={stage}>
                <h3>to {stage.replaceAll('_', ' ')}</h3>
                {refusal ? <UnmetList unmet={refusal.unmet} /> : <p class="ok">Nothing missing: it can advance.</p>}
              </li>
            ))}
          </ul>
        )}
      </section>

      {!final && member && (
        <section aria-labelledby="actions-title" class="actions">
          <h2 id="actions-title">Actions</h2>
          <p class="muted">
            As {session.user} ({roles.join(', ')}).
            {approvable.length
              ? ' A rejection, with its reason, blocks every stage that needs the approval until you approve it.'
              : ''}
          </p>
          {approvable.map((a) => (
            <div key={a} class="approval-actions" data-approval-actions={a}>
              <form
                class="action"
                onSubmit={(e) => {
                  e.preventDefault();
                  const comment = new FormData(e.currentTarget).get('comment') || '';
                  // The channel is the server's to say (the API's own default).
                  act(`Approve ${a}`, 'approvals', { approval: a, comment });
                }}
              >
                <label>
                  Comment on {a}
                  <input name="comment" type="text" />
                </label>
                <button type="submit" disabled={busy} data-approve={a}>
                  Approve {a.replaceAll('_', ' ')}
                </button>
              </form>
              {!rejectedByMe(a) && (
                <form
                  class="action"
                  onSubmit={(e) => {
                    e.preventDefault();
                    const reason = String(new FormData(e.currentTarget).get('reason') || '').trim();
                    // An empty reason is not sent: the API would refuse it (R-2c).
                    if (!reason) {
                      setOutcome({ problem: new Problem(0, { title: 'Not sent', detail: `a rejection of ${a} needs a reason` }) });
                      return;
                    }
                    act(`Reject ${a}`, 'rejections', { approval: a, comment: reason });
                  }}
                >
                  <label>
                    Reason to reject {a}
                    <input name="reason" type="text" required data-reject-reason={a} />
                  </label>
                  <button type="submit" class="danger" disabled={busy} data-reject={a}>
                    Reject {a.replaceAll('_', ' ')}
                  </button>
                </form>
              )}
            </div>
          ))}
          {gatesOpen.length > 0 && (
            <form
              class="action"
              onSubmit={(e) => {
                e.preventDefault();
                const f = new FormData(e.currentTarget);
                const [gate, environment] = String(f.get('gate')).split('@');
                act(`Evidence for ${gate}`, 'evidence', {
                  gate,
                  value: Number(f.get('value')),
                  ...(environment ? { environment } : {}),
                });
              }}
            >
              <label>
                Gate
                <select name="gate">
                  {gatesOpen.map((g) => (
                    <option key={`${g.gate}@${g.environment || ''}`} value={`${g.gate}@${g.environment || ''}`}>
                      {g.gate}
                      {g.environment ? ` (${g.environment})` : ''} — needs {threshold(g.threshold)}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Measured value
                <input name="value" type="number" step="any" required />
              </label>
              <button type="submit" disabled={busy}>
                Record evidence
              </button>
            </form>
          )}
          {stepsOpen.map((u) => (
            <form
              key={`${u.step}@${u.environment || ''}`}
              class="action"
              onSubmit={(e) => {
                e.preventDefault();
                const detail = String(new FormData(e.currentTarget).get('detail') || '') || undefined;
                act(`Report ${u.step}`, 'reports', { step: u.step, ...(u.environment ? { environment: u.environment } : {}), detail });
              }}
            >
              <label>
                What happened ({u.step}
                {u.environment ? ` in ${u.environment}` : ''})
                <input name="detail" type="text" placeholder="done" />
              </label>
              <button type="submit" disabled={busy} data-report={u.step}>
                Report {u.step.replaceAll('_', ' ')} done
              </button>
            </form>
          ))}
          <form
            class="action"
            onSubmit={(e) => {
              e.preventDefault();
              const f = new FormData(e.currentTarget);
              act('Booking', 'bookings', {
                environment: f.get('environment'),
                start: f.get('start'),
                duration: f.get('duration') || '1h',
              });
            }}
          >
            <label>
              Environment
              <select name="environment">
                {(policy?.environments || [{ name: 'prod' }, { name: 'test' }, { name: 'staging' }]).map((e) => (
                  <option key={e.name}>{e.name}</option>
                ))}
              </select>
            </label>
            <label>
              Start ({policy?.time_zone || 'UTC'})
              <input name="start" type="datetime-local" required />
            </label>
            <label>
              Duration
              <input name="duration" type="text" placeholder="1h" />
            </label>
            <button type="submit" disabled={busy}>
              Schedule
            </button>
          </form>
          <div class="buttons">
            <button type="button" disabled={busy} onClick={() => act('Advance', 'advance', {})}>
              Advance
            </button>
            {may(roles, 'rollback') && ROLLBACK_FROM.includes(state.stage) && (
              <button type="button" class="danger" disabled={busy} onClick={() => act('Roll back', 'rollback', {})}>
                Roll back
              </button>
            )}
          </div>
          {may(roles, 'cancel') && (
            <form
              class="action"
              onSubmit={(e) => {
                e.preventDefault();
                act('Cancel', 'cancellation', { reason: new FormData(e.currentTarget).get('reason') });
              }}
            >
              <label>
                Reason to cancel
                <input name="reason" type="text" required />
              </label>
              <button type="submit" class="danger" disabled={busy}>
                Cancel release
              </button>
            </form>
          )}
          <div aria-live="polite">
            {outcome?.ok && <p class="ok">{outcome.ok}</p>}
            {outcome?.problem && <ProblemView problem={outcome.problem} />}
          </div>
        </section>
      )}

      <div class="grid">
        <section aria-labelledby="gates-title" class="gates">
          <h2 id="gates-title">Gates</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Gate</th>
                <th scope="col">Value</th>
                <th scope="col">Threshold</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {(state.gate_results || []).map((g, i) => (
                <tr key={i} class={g.passed === false ? 'failed' : ''}>
                  <td>
                    {g.gate}
                    {g.environment ? ` (${g.environment})` : ''}
                  </td>
                  <td>{measure(g.measured ?? g.value)}</td>
                  <td>{threshold(g.threshold)}</td>
                  <td>{g.source ?? ''}</td>
                </tr>
              ))}
              {gatesOpen.map((g) => (
                <tr key={`open-${g.gate}-${g.environment}`} class="failed">
                  <td>
                    {g.gate}
                    {g.environment ? ` (${g.environment})` : ''}
                  </td>
                  <td>{measure(g.measured)}</td>
                  <td>{threshold(g.threshold)}</td>
                  <td>unmet</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>

        <section aria-labelledby="approvals-title">
          <h2 id="approvals-title">Approvals</h2>
          {(state.approvals || []).length ? (
            <table aria-label="Approvals given">
              <thead>
                <tr>
                  <th scope="col">Approval</th>
                  <th scope="col">Who</th>
                  <th scope="col">When</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Proof</th>
                </tr>
              </thead>
              <tbody>
                {state.approvals.map((a, i) => (
                  <tr key={i} data-approval={a.approval}>
                    <td>{a.approval}</td>
                    <td>
                      {a.user} ({a.role})
                    </td>
                    <td>
                      <When at={a.at} />
                    </td>
                    <td>{a.channel}</td>
                    <td class="proof">{a.proof ? proofText(a.proof) : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">{rejections.length ? 'None given.' : 'None yet.'}</p>
          )}
          {rejections.length > 0 && (
            <>
              <h3 id="rejections-title">Rejections</h3>
              <table aria-labelledby="rejections-title" class="rejections">
                <thead>
                  <tr>
                    <th scope="col">Approval</th>
                    <th scope="col">Who</th>
                    <th scope="col">When, via</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Standing</th>
                  </tr>
                </thead>
                <tbody>
                  {rejections.map((r, i) => (
                    <tr key={i} data-rejection={r.approval} data-standing={String(r.standing)}>
                      <td>{r.approval}</td>
                      <td>
                        {r.user} ({r.role})
                      </td>
                      <td>
                        <When at={r.at} /> via {r.channel}
                      </td>
                      <td>{r.comment}</td>
                      <td class={r.standing ? 'bad' : 'muted'}>
                        {r.standing ? `standing: blocks until ${r.user} approves` : `lifted: ${r.user} approved since`}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </section>

        <section aria-labelledby="artifacts-title">
          <h2 id="artifacts-title">Artifacts</h2>
          {(state.artifacts || []).length ? (
            <ul class="plain">
              {state.artifacts.map((a, i) => (
                <li key={i}>
                  {a.name} {a.version} ({a.size} B) <code class="digest">sha256:{a.sha256}</code>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">None yet.</p>
          )}
        </section>

        <section aria-labelledby="steps-title">
          <h2 id="steps-title">Steps</h2>
          {(state.steps || []).length ? (
            <ul class="plain">
              {state.steps.map((s, i) => (
                <li key={i}>
                  {s.step} {s.environment ? `(${s.environment})` : ''} {s.target ? `on ${s.target}` : ''}:{' '}
                  {s.outcome ? s.outcome.status || JSON.stringify(s.outcome) : 'running'}
                  {s.outcome?.detail ? ` — ${s.outcome.detail}` : s.outcome?.error ? ` — ${s.outcome.error}` : ''}
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">None yet.</p>
          )}
        </section>

        <section aria-labelledby="findings-title">
          <h2 id="findings-title">Findings and duties</h2>
          {(state.findings || []).map((f, i) => (
            <p key={i} class="finding">
              <span class="rule">{f.rule}</span> {f.detail}
            </p>
          ))}
          {(extra.duties || []).map(({ duty }, i) => (
            <p key={`d${i}`} class="duty">
              <span class="rule">{duty.rule}</span> {duty.kind}: {duty.subject} (due <When at={duty.due_at} />
              {duty.deadline ? (
                <>
                  , deadline <When at={duty.deadline} />
                </>
              ) : null}
              )
            </p>
          ))}
          {!(state.findings || []).length && !(extra.duties || []).length && <p class="muted">No findings, no duty due.</p>}
        </section>

        <section aria-labelledby="audit-title">
          <h2 id="audit-title">Audit chain</h2>
          {extra.audit?.problem ? (
            <ProblemView problem={extra.audit.problem} />
          ) : extra.audit ? (
            <p class={extra.audit.verified ? 'ok' : 'bad'} data-verified={String(!!extra.audit.verified)}>
              {extra.audit.verified ? 'Verified' : 'NOT verified'}
              {extra.audit.events !== undefined ? ` · ${extra.audit.events} events` : ''}
            </p>
          ) : (
            <p class="muted">Checking…</p>
          )}
          <p>
            Export: <a href={`${base}/history?format=jsonl`}>audit trail (JSON lines)</a> ·{' '}
            <a href={`${base}/evidence/bundle`}>signed evidence bundle</a>
          </p>
        </section>
      </div>

      <section aria-labelledby="notes-title">
        <h2 id="notes-title">Notes</h2>
        {extra.notes ? <pre class="notes">{typeof extra.notes === 'string' ? extra.notes : JSON.stringify(extra.notes, null, 2)}</pre> : <p class="muted">No notes.</p>}
      </section>

      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">Timeline</h2>
        <ol class="timeline" aria-live="polite">
          {timeline.map((t, i) =>
            t.name === 'log' ? (
              <li key={i} class="log">
                <code>{t.log}</code>
              </li>
            ) : (
              <li
                key={i}
                class={`event event-${t.name}`}
                data-event={t.name}
                data-live={t.live !== undefined ? 'true' : undefined}
              >
                <When at={t.at} /> <strong>{t.name}</strong>
                {t.actor ? ` by ${t.actor}` : ''}
                {t.rule ? <> · <span class="rule">{t.rule}</span></> : null} <span class="muted">{summary(t)}</span>
              </li>
            ),
          )}
        </ol>
      </section>
    </article>
  );
}

function proofText(p) {
  if (typeof p !== 'object') return String(p);
  const [kind, body] = Object.entries(p)[0] || [];
  if (p.kind) return [p.kind, p.subject, p.id, p.issuer && `(${p.issuer})`].filter(Boolean).join(' ');
  return body && typeof body === 'object' ? `${kind}: ${Object.values(body).join(' ')}` : `${kind} ${body ?? ''}`;
}
