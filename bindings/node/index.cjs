'use strict'
// shipwarden for Node: the native addon (native.js), wrapped with error
// classes, port normalization and event subscriptions.

const native = require('./load-native.cjs')

const MARKER = '\u0001'

/** Base of every error shipwarden throws; `code` is stable, `retryable` says whether to try again. */
class ShipwardenError extends Error {
  constructor(message, details = {}, options) {
    super(message, options)
    this.name = new.target.name
    this.code = details.code ?? 'SHIPWARDEN'
    this.retryable = details.retryable ?? false
  }
}

/** The policy refused: `rule`, `stage`, `attempted`, and every `unmet` requirement. */
class RefusedError extends ShipwardenError {
  constructor(message, details, options) {
    super(message, details, options)
    this.rule = details.rule
    this.stage = details.stage ?? null
    this.attempted = details.attempted
    this.unmet = details.unmet ?? []
  }
}

/** Another driver kept changing the release, or holds its lease: nothing was lost, try again. */
class ConflictError extends ShipwardenError {}

/** An outside system failed: `port`, `operation`, `kind`, `retryable`, and the `causes` below it. */
class AdapterError extends ShipwardenError {
  constructor(message, details, options) {
    super(message, details, options)
    this.port = details.port ?? null
    this.operation = details.operation ?? null
    this.kind = details.kind ?? null
    this.causes = details.causes ?? []
  }
}

/** The configuration has problems: `problems` lists each `{ path, message }`. */
class ConfigError extends ShipwardenError {
  constructor(message, details, options) {
    super(message, details, options)
    this.problems = details.problems ?? []
  }
}

/** An argument is not valid (a version, a name, a date, an unknown user). */
class InvalidInputError extends ShipwardenError {}

/** No such release (code `NOT_FOUND`, an `InvalidInputError`). */
class NotFoundError extends InvalidInputError {}

/** The audit trail does not verify (R-9d): `release`, and `sequence` where the disagreement is (null when at none). */
class IntegrityError extends ShipwardenError {
  constructor(message, details, options) {
    super(message, details, options)
    this.release = details.release ?? null
    this.sequence = details.sequence ?? null
  }
}

const CLASSES = {
  REFUSED: RefusedError,
  CONFLICT: ConflictError,
  ADAPTER: AdapterError,
  CONFIG: ConfigError,
  INVALID_INPUT: InvalidInputError,
  NOT_FOUND: NotFoundError,
  INTEGRITY: IntegrityError,
}

/** Turns the addon's encoded error into its class, keeping the original as `cause`. */
function translate(error) {
  if (!(error instanceof Error) || typeof error.message !== 'string' || !error.message.startsWith(MARKER)) {
    return error
  }
  let details
  try {
    details = JSON.parse(error.message.slice(1))
  } catch {
    return error
  }
  if (Array.isArray(details.unmet)) {
    details.unmet = details.unmet.map((u) => Object.fromEntries(Object.entries(u).filter(([, v]) => v !== null)))
  }
  const Class = CLASSES[details.code] ?? ShipwardenError
  let cause
  for (const text of [...(details.causes ?? [])].reverse()) {
    cause = new Error(text, cause ? { cause } : undefined)
  }
  const translated = new Class(details.message, details, cause ? { cause } : undefined)
  if (error.stack) translated.stack = `${translated.name}: ${details.message}\n${error.stack.split('\n').slice(1).join('\n')}`
  return translated
}

async function call(promise) {
  try {
    return await promise
  } catch (error) {
    throw translate(error)
  }
}

function sync(fn) {
  try {
    return fn()
  } catch (error) {
    throw translate(error)
  }
}

/** A port error's facts, for the addon: a JS throw or rejection never escapes into Rust as anything else. */
function encodePortError(error) {
  const e = error ?? {}
  return new Error(
    MARKER +
      JSON.stringify({
        name: typeof e.name === 'string' ? e.name : 'Error',
        message: typeof e.message === 'string' ? e.message : String(error),
        code: typeof e.code === 'string' ? e.code : undefined,
        retryable: typeof e.retryable === 'boolean' ? e.retryable : undefined,
        retryAfter: typeof e.retryAfter === 'number' ? e.retryAfter : undefined,
      }),
  )
}

function makeLog(id) {
  return {
    line: (text, stream = 'stdout') => native.portLog(id, stream, String(text)),
    stdout: (text) => native.portLog(id, 'stdout', String(text)),
    stderr: (text) => native.portLog(id, 'stderr', String(text)),
  }
}

const LOGGED = new Set(['deploy', 'rollback'])

/** A port object as the addon calls it: each method takes one array of arguments and returns a Promise. */
function normalize(obj, role, methods) {
  if (obj === null || typeof obj !== 'object') {
    throw new InvalidInputError(`a ${role} must be an object with ${methods.join(', ')}`, { code: 'INVALID_INPUT' })
  }
  const port = { name: typeof obj.name === 'string' ? obj.name : obj.constructor?.name ?? role }
  for (const method of methods) {
    if (typeof obj[method] !== 'function') continue
    const answer = (value) => {
      if (role === 'artifact-store' && method === 'get') return Array.from(value ?? [])
      return value === undefined ? null : value
    }
    // A sync answer comes back at once as `{ v }`; a Promise is handed over as it is.
    // Either way a throw or a rejection reaches Rust as an encoded error, never as a crash.
    port[method] = (args) => {
      const list = Array.isArray(args) ? [...args] : [args]
      if (LOGGED.has(method)) list[1] = makeLog(list[1])
      let value
      try {
        value = obj[method](...list)
      } catch (error) {
        return Promise.reject(encodePortError(error))
      }
      if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
        return Promise.resolve(value).then(answer, (error) => Promise.reject(encodePortError(error)))
      }
      return { v: answer(value) }
    }
  }
  return port
}

const METHODS = {
  target: ['deploy', 'rollback', 'status'],
  notifier: ['send'],
  probe: ['check'],
  ticketing: ['get', 'openBugs', 'comment', 'transition', 'createReleaseTicket'],
  artifacts: ['put', 'get', 'exists', 'versions'],
  backup: ['backup', 'verify', 'restore', 'find'],
}

function envPorts(map, role, methods) {
  if (!map) return undefined
  const out = {}
  for (const [env, list] of Object.entries(map)) {
    out[env] = (Array.isArray(list) ? list : [list]).map((p) => normalize(p, role, methods))
  }
  return out
}

const STAGES = Object.freeze(Object.fromEntries(native.stages().map((s) => [s.toUpperCase(), s])))

/** Runs releases: plan, approve, record evidence, run, deploy, verify, roll back; every method returns a Promise. */
class ReleaseManager {
  #native
  #listeners = { event: new Map(), log: new Map() }

  constructor(nativeManager) {
    this.#native = nativeManager
  }

  /**
   * Opens a manager from a shipwarden.toml path, an object of the same shape,
   * or nothing (in memory), with ports written in JavaScript on top.
   */
  static async open(config = null, options = {}) {
    const text = config === null || config === undefined ? null : typeof config === 'string' ? config : JSON.stringify(config)
    if (typeof text === 'string' && typeof config === 'string' && text.trimStart().startsWith('{')) {
      throw new InvalidInputError('a config string is a path; pass an object for an inline configuration', { code: 'INVALID_INPUT' })
    }
    const ports = {
      targets: envPorts(options.targets, 'deploy-target', METHODS.target),
      checks: envPorts(options.checks, 'probe', METHODS.probe),
      smoke: envPorts(options.smoke, 'probe', METHODS.probe),
      notifiers: options.notifiers?.map((n) => normalize(n, 'notifier', METHODS.notifier)),
      ticketing: options.ticketing && normalize(options.ticketing, 'ticketing', METHODS.ticketing),
      artifacts: options.artifacts && normalize(options.artifacts, 'artifact-store', METHODS.artifacts),
      backup: options.backup && normalize(options.backup, 'backup', METHODS.backup),
    }
    const clock = options.clock instanceof Date ? options.clock.toISOString() : options.clock
    const opened = await call(sync(() => native.ReleaseManager.open(text, { baseDir: options.baseDir, clock }, ports)))
    return new ReleaseManager(opened)
  }

  actor(user) {
    return sync(() => this.#native.actor(user))
  }
  advanceClock(seconds) {
    return sync(() => this.#native.advanceClock(seconds))
  }
  policyToml() {
    return this.#native.policyToml()
  }
  plan(actor, plan) {
    return call(sync(() => this.#native.plan(actor, plan)))
  }
  approve(release, actor, approval, options) {
    return call(sync(() => this.#native.approve(release, actor, approval, options)))
  }
  approvalStatement(release, actor, approval, options) {
    return call(sync(() => this.#native.approvalStatement(release, actor, approval, options)))
  }
  checkpoints(release) {
    return call(sync(() => this.#native.checkpoints(release)))
  }
  verifyAudit(release, options) {
    return call(sync(() => this.#native.verifyAudit(release, options)))
  }
  recordEvidence(release, actor, gate, value, source, options) {
    return call(sync(() => this.#native.recordEvidence(release, actor, gate, value, source, options)))
  }
  advance(release, actor, to) {
    return call(sync(() => this.#native.advance(release, actor, to)))
  }
  schedule(release, actor, environment, start, end) {
    const iso = (t) => (t instanceof Date ? t.toISOString() : t)
    return call(sync(() => this.#native.schedule(release, actor, environment, iso(start), iso(end))))
  }
  cancel(release, actor, reason) {
    return call(sync(() => this.#native.cancel(release, actor, reason)))
  }
  rollback(release, actor, reason) {
    return call(sync(() => this.#native.rollback(release, actor, reason)))
  }
  reportStep(release, actor, step, options) {
    return call(sync(() => this.#native.reportStep(release, actor, step, options)))
  }
  resolve(release, actor, step, options) {
    return call(sync(() => this.#native.resolve(release, actor, step, options)))
  }
  status(release) {
    return call(sync(() => this.#native.status(release)))
  }
  history(release) {
    return call(sync(() => this.#native.history(release)))
  }
  list(query) {
    return call(sync(() => this.#native.list(query)))
  }
  run(release, until) {
    return call(sync(() => this.#native.run(release, until)))
  }
  verify(release) {
    return call(sync(() => this.#native.verify(release)))
  }
  deploy(release, environment) {
    return call(sync(() => this.#native.deploy(release, environment)))
  }
  notes(release) {
    return call(sync(() => this.#native.notes(release)))
  }

  /** Calls `listener` with every audit event (`'event'`) or step log line (`'log'`) as it is appended. */
  on(kind, listener) {
    const listeners = this.#listeners[kind]
    if (!listeners) throw new InvalidInputError(`unknown event kind \`${kind}\`: 'event' or 'log'`, { code: 'INVALID_INPUT' })
    if (!listeners.has(listener)) {
      // A listener that throws is reported, not allowed to stop the process (and a release) midway.
      const guarded = (item) => {
        try {
          listener(item)
        } catch (error) {
          console.error(`shipwarden: a '${kind}' listener threw:`, error)
        }
      }
      const subscription = kind === 'event' ? this.#native.subscribeEvents(guarded) : this.#native.subscribeLogs(guarded)
      listeners.set(listener, subscription)
    }
    return this
  }

  /** Stops calling `listener`. */
  off(kind, listener) {
    const subscription = this.#listeners[kind]?.get(listener)
    if (subscription) {
      subscription.close()
      this.#listeners[kind].delete(listener)
    }
    return this
  }

  /**
   * An async iterator of every audit event (or, with `'log'`, log line) from
   * now on; `return()` (or `break`) ends it. While a `next()` waits, the
   * process stays alive for it; otherwise the subscription holds nothing open.
   */
  events(kind = 'event') {
    const queue = []
    const waiting = []
    let keepAlive = null
    const settle = () => {
      if (waiting.length === 0 && keepAlive !== null) {
        clearInterval(keepAlive)
        keepAlive = null
      }
    }
    const listener = (item) => {
      const next = waiting.shift()
      if (next) next({ value: item, done: false })
      else queue.push(item)
      settle()
    }
    this.on(kind, listener)
    const stop = () => {
      this.off(kind, listener)
      for (const next of waiting.splice(0)) next({ value: undefined, done: true })
      settle()
    }
    return {
      [Symbol.asyncIterator]() {
        return this
      },
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift(), done: false })
        keepAlive ??= setInterval(() => {}, 2 ** 30)
        return new Promise((resolve) => waiting.push(resolve))
      },
      return: () => {
        stop()
        return Promise.resolve({ value: undefined, done: true })
      },
    }
  }
}

/** Parses a commit message: conventional type and scope, ticket keys, breaking, hotfix, revert, merge. */
function parseCommit(subject, options = {}) {
  return native.parseCommit({ subject, ...options })
}

/** Release notes for commits (oldest first). */
function releaseNotes(project, commits, options = {}) {
  return sync(() => native.releaseNotes(project, commits, options.version, options.date))
}

/** Signs an approval statement with an SSH key file (or a `.pub` whose private half ssh-agent holds): the armored signature. */
function signStatement(statement, keyFile) {
  return sync(() => native.signStatement(statement, keyFile))
}

/** For benches/node_overhead.cjs, not public API: a JS deploy target's `status` called from Rust `n` times; mean ns. */
function benchJsPort(target, n) {
  return call(sync(() => native.benchJsPort(normalize(target, 'deploy-target', METHODS.target), n)))
}

module.exports = {
  ReleaseManager,
  Stage: STAGES,
  ShipwardenError,
  RefusedError,
  ConflictError,
  AdapterError,
  ConfigError,
  InvalidInputError,
  NotFoundError,
  IntegrityError,
  parseCommit,
  releaseNotes,
  signStatement,
}

// The bench helper is reachable for benches/node_overhead.cjs only: not enumerable, not in index.d.ts or index.mjs.
Object.defineProperty(module.exports, '_bench', { value: Object.freeze({ jsPort: benchJsPort }), enumerable: false })
