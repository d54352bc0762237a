// "Confirm": where a one-time approve or reject link from a mailed approval
// request lands (issue #23, R-2b, R-2c). Opening it changes nothing: the page
// reads what the link does (`GET /v1/links/{token}`) and asks the signed-in
// person to confirm; confirming (`POST`, with the session's CSRF token)
// records the approval or rejection with channel `email`. A link that cannot
// be used (another user's, expired, used already, a release that moved on)
// shows the server's refusal with its rule.

import { useEffect, useState } from 'preact/hooks';

import { Problem, get, post } from './api.js';
import { Link, Loading, ProblemView, When } from './parts.jsx';

/** The confirmation page of the link `t` in the address. */
export function Confirm() {
  const token = new URLSearchParams(location.search).get('t') || '';
  const path = `/v1/links/${encodeURIComponent(token)}`;
  const [link, setLink] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState(null);
  useEffect(() => {
    if (!token) {
      setError(new Problem(400, { title: 'No link', detail: 'open this page from the link in your mail (…/console/confirm?t=…)' }));
      return;
    }
    get(path).then(setLink, setError);
  }, [token]);
  const reject = link?.verdict === 'reject';
  const confirm = async (e) => {
    e.preventDefault();
    const reason = new FormData(e.currentTarget).get('reason')?.toString().trim() || undefined;
    if (reject && !reason) {
      setOutcome({ problem: new Problem(0, { title: 'Not sent', detail: 'a rejection needs a reason (R-2c)' }) });
      return;
    }
    setBusy(true);
    try {
      const state = await post(path, reason ? { reason } : {});
      setOutcome({ ok: state });
    } catch (problem) {
      setOutcome({ problem });
    } finally {
      setBusy(false);
    }
  };
  const verb = reject ? 'Reject' : 'Approve';
  return (
    <section aria-labelledby="confirm-title" class="confirm">
      <h1 id="confirm-title">Confirm an emailed {link ? verb.toLowerCase() : 'approval'} link</h1>
      {!link ? (
        <Loading error={error} />
      ) : (
        <>
          <p class="what" data-confirm-what>
            {verb} <code>{link.approval}</code> of{' '}
            <Link href={`/console/releases/${encodeURIComponent(link.release)}`}>{link.release}</Link> as {link.user}
          </p>
          <dl class="facts">
            <dt>Stage when mailed</dt>
            <dd>{link.stage.replaceAll('_', ' ')}</dd>
            <dt>Link expires</dt>
            <dd>
              <When at={link.expires} />
            </dd>
          </dl>
          {outcome?.ok ? (
            <p class="ok" role="status" data-confirmed>
              {reject ? 'Rejected' : 'Approved'}: recorded with channel email. The release is now{' '}
              {(outcome.ok.stage || 'unplanned').replaceAll('_', ' ')}.{' '}
              <Link href={`/console/releases/${encodeURIComponent(link.release)}`}>See the release</Link>
            </p>
          ) : !link.usable ? (
            <ProblemView problem={new Problem(link.refusal?.status || 409, link.refusal)} />
          ) : (
            <form class="action" onSubmit={confirm}>
              {reject && (
                <label>
                  Reason to reject {link.approval}
                  <input name="reason" type="text" required maxLength={2000} />
                </label>
              )}
              <button type="submit" class={reject ? 'danger' : ''} disabled={busy} data-confirm>
                Confirm: {verb.toLowerCase()} {link.approval.replaceAll('_', ' ')}
              </button>
              <p class="muted">Nothing is recorded until you confirm. The link works once.</p>
            </form>
          )}
          <div aria-live="polite">{outcome?.problem && <ProblemView problem={outcome.problem} />}</div>
        </>
      )}
    </section>
  );
}
