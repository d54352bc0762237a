// "Waiting for me": each approval, gate evidence or reported step the
// signed-in user's roles can give, from `GET /v1/inbox`; an approval says who
// rejected it and why while that rejection stands (R-2b).

import { useEffect, useState } from 'preact/hooks';

import { get } from './api.js';
import { Link, Loading, When, requirementText } from './parts.jsx';

/** The inbox page. */
export function Inbox() {
  const [inbox, setInbox] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    get('/v1/inbox').then(setInbox, setError);
  }, []);
  return (
    <section aria-labelledby="inbox-title">
      <h1 id="inbox-title">Waiting for me</h1>
      {!inbox ? (
        <Loading error={error} />
      ) : inbox.items.length === 0 ? (
        <p>Nothing is waiting for you.</p>
      ) : (
        <ul class="inbox">
          {inbox.items.map((item, i) => (
            <li
              key={i}
              class="inbox-item"
              data-release={item.release}
              data-requirement={item.unmet?.requirement}
              data-approval={item.unmet?.approval}
            >
              <Link href={`/console/releases/${encodeURIComponent(item.release)}`}>{item.release}</Link>{' '}
              <span class={`kind kind-${item.kind}`}>{item.kind}</span>
              <p>
                {item.stage.replaceAll('_', ' ')} → {item.to.replaceAll('_', ' ')}: <span class="rule">{item.unmet?.rule}</span>{' '}
                {requirementText(item.unmet || {})}
              </p>
              {(item.rejections || []).map((r, j) => (
                <p key={j} class="rejection" data-rejected-by={r.user}>
                  <strong class="bad">Rejected by {r.user}</strong> ({r.role}, <When at={r.at} />): {r.reason}
                </p>
              ))}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
