// The shipwarden console (issue #22): a single-page app under /console/ on the
// public API. The browser never holds a token: the server signs people in
// (OIDC code + PKCE) and keeps an HttpOnly session cookie; this app only reads
// `/console/session` for who is signed in and the CSRF token to send back.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import './style.css';

import { loadSession, navigate, post, prefetch, session } from './api.js';
import { Board, boardQuery, boardState } from './board.jsx';
import { Calendar } from './calendar.jsx';
import { Confirm } from './confirm.jsx';
import { Inbox } from './inbox.jsx';
import { Link, Loading } from './parts.jsx';
import { Release } from './release.jsx';

function route(path) {
  const p = path.replace(/\/+$/, '');
  if (p === '/console' || p === '') return { page: 'board' };
  if (p === '/console/inbox') return { page: 'inbox' };
  if (p === '/console/calendar') return { page: 'calendar' };
  if (p === '/console/confirm') return { page: 'confirm' };
  const m = p.match(/^\/console\/releases\/([^/]+)$/);
  if (m) return { page: 'release', id: decodeURIComponent(m[1]) };
  return { page: 'missing' };
}

function SignIn() {
  const next = location.pathname.startsWith('/console/') ? location.pathname + location.search : '/console/';
  return (
    <main id="main" class="signin">
      <h1>shipwarden console</h1>
      <p>You are not signed in.</p>
      <p>
        <a class="button" href={`/console/login?next=${encodeURIComponent(next)}`}>
          Sign in
        </a>
      </p>
    </main>
  );
}

function Shell({ where }) {
  const [out, setOut] = useState(null);
  const signOut = async () => {
    try {
      await post('/console/logout');
      location.assign('/console/');
    } catch (e) {
      setOut(e);
    }
  };
  const nav = [
    ['board', '/console/', 'Board'],
    ['inbox', '/console/inbox', 'Waiting for me'],
    ['calendar', '/console/calendar', 'Calendar'],
  ];
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/console/" class="brand">
          shipwarden
        </Link>
        <nav aria-label="Console">
          <ul>
            {nav.map(([page, href, label]) => (
              <li key={page}>
                <Link href={href} aria-current={where.page === page ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            {session.user}
            <span class="muted"> · {session.projects.map((p) => `${p.name}: ${p.roles.join(', ') || 'reader'}`).join('; ')}</span>
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {out && <Loading error={out} />}
        {where.page === 'board' && <Board />}
        {where.page === 'inbox' && <Inbox />}
        {where.page === 'calendar' && <Calendar />}
        {where.page === 'confirm' && <Confirm />}
        {where.page === 'release' && <Release id={where.id} />}
        {where.page === 'missing' && (
          <section>
            <h1>Not found</h1>
            <p>
              No console page at {location.pathname}. <Link href="/console/">To the board</Link>
            </p>
          </section>
        )}
      </main>
    </>
  );
}

const moves = { count: 0 };

function App() {
  const [signedIn, setSignedIn] = useState(null);
  const [error, setError] = useState(null);
  const [where, setWhere] = useState(route(location.pathname));
  useEffect(() => {
    loadSession().then(setSignedIn, setError);
    const moved = () => {
      setWhere(route(location.pathname));
      window.scrollTo(0, 0);
    };
    const ended = () => setSignedIn(false);
    addEventListener('popstate', moved);
    addEventListener('shipwarden:signed-out', ended);
    return () => {
      removeEventListener('popstate', moved);
      removeEventListener('shipwarden:signed-out', ended);
    };
  }, []);
  useEffect(() => {
    const titles = { board: 'Releases', inbox: 'Waiting for me', calendar: 'Calendar', confirm: 'Confirm a link', release: where.id };
    document.title = `${titles[where.page] || 'Not found'} · shipwarden`;
    // After a client-side move, keyboard and screen-reader users start at the new page's content.
    if (moves.count++ > 0) document.getElementById('main')?.focus();
  }, [where]);
  if (error)
    return (
      <main id="main">
        <Loading error={error} />
      </main>
    );
  if (signedIn === null)
    return (
      <main id="main">
        <Loading />
      </main>
    );
  return signedIn ? <Shell where={where} /> : <SignIn />;
}

// The board's first page loads while the session does (a 401 there means the sign-in page anyway).
if (route(location.pathname).page === 'board') {
  const { filters, offset } = boardState(location.search);
  prefetch(boardQuery(filters, offset)[1]);
}
// Exposed for the browser tests and debugging: follow a console link.
window.shipwardenNavigate = navigate;
render(<App />, document.getElementById('app'));
