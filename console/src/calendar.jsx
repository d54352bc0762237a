// The calendar: blackouts, maintenance windows, freezes and booked
// deployments of the coming days, conflicts marked, and the iCalendar export.

import { useEffect, useState } from 'preact/hooks';

import { get, session } from './api.js';
import { Link, Loading, When } from './parts.jsx';

/** The calendar page. */
export function Calendar() {
  const [project, setProject] = useState('');
  const [days, setDays] = useState(14);
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const query = `days=${days}${project ? `&project=${encodeURIComponent(project)}` : ''}`;
  useEffect(() => {
    setItems(null);
    get(`/v1/calendar?${query}`).then((c) => setItems(Array.isArray(c) ? c : []), setError);
  }, [query]);
  const conflicts = (items || []).filter((o) => o.conflicts?.length).length;
  return (
    <section aria-labelledby="calendar-title">
      <h1 id="calendar-title">Calendar</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Calendar range">
        <label>
          Project
          <select value={project} onChange={(e) => setProject(e.currentTarget.value)}>
            <option value="">all</option>
            {session.projects.map((p) => (
              <option key={p.name}>{p.name}</option>
            ))}
          </select>
        </label>
        <label>
          Days ahead
          <input type="number" min="1" max="366" value={days} onChange={(e) => setDays(Number(e.currentTarget.value) || 14)} />
        </label>
      </form>
      <p>
        <a href={`/v1/calendar?${query}&format=ics`} download="shipwarden.ics">
          Subscribe or download (.ics)
        </a>
      </p>
      {!items ? (
        <Loading error={error} />
      ) : (
        <>
          <p aria-live="polite">
            {items.length} occurrences{conflicts ? `, ${conflicts} in conflict` : ', no conflict'}.
          </p>
          <table class="calendar">
            <caption class="sr-only">Windows, freezes and bookings</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">Name</th>
                <th scope="col">Environments</th>
                <th scope="col">Conflicts</th>
              </tr>
            </thead>
            <tbody>
              {items.map((o, i) => (
                <tr key={i} class={`${o.kind || ''}${o.conflicts?.length ? ' conflict' : ''}`} data-conflict={o.conflicts?.length ? 'true' : undefined}>
                  <td data-label="When">
                    <When at={o.start} /> – <When at={o.end} />
                  </td>
                  <td data-label="Kind">{o.kind}</td>
                  <td data-label="Name">{o.kind === 'deployment' ? <Link href={`/console/releases/${encodeURIComponent(o.name)}`}>{o.name}</Link> : o.name}</td>
                  <td data-label="Environments">{(o.environments || []).join(', ')}</td>
                  <td data-label="Conflicts">
                    {o.conflicts?.length ? (
                      <strong class="bad">
                        <span aria-hidden="true">⚠ </span>
                        {o.conflicts.join('; ')}
                      </strong>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
