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
    this.step = details.step ?? null
  }
}

/** The configuration has problems: `problems` lists each `{ path, message }`. */
class ConfigError extends ShipwardenError {
  constructor(message, details, options) {
    super(message, details, options)
    this.problems = details.problems ?? []
  }
}

/** An argument is not valid (a version, a name, a date, an unknown user or key): `path` names it (`plan.version`) when known. */
class InvalidInputError extends ShipwardenError {
  constructor(message, details = {}, options) {
    super(message, { code: 'INVALID_INPUT', ...details }, options)
    this.path = details.path ?? null
  }
}

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
  if (error instanceof Error && NAPI_ARGUMENT_CODES.has(error.code)) {
    return new InvalidInputError(error.message, { code: 'INVALID_INPUT' }, { cause: error })
  }
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

/** napi's own argument errors (`StringExpected`, `InvalidArg`, …): a conversion the checks below did not foresee. */
const NAPI_ARGUMENT_CODES = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected', 'NumberExpected',
  'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected', 'ArrayBufferExpected', 'DetachableArraybufferExpected',
])

/** Runs `fn` (which may throw or return a Promise) and always answers with a Promise: every mistake rejects, none throws. */
async function call(fn) {
  try {
    return await fn()
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

// Argument checks, before the addon sees a value: a mistake is an `InvalidInputError`
// whose message starts with the argument's path (`plan.version: expected a string, got number`)
// and whose `path` property holds it. Each check returns the value normalized for the addon.

function describe(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Date) return 'a Date'
  return typeof value
}

function invalidInput(path, message) {
  return new InvalidInputError(`${path}: ${message}`, { code: 'INVALID_INPUT', path })
}

function fail(path, expected, value) {
  if (value === undefined) throw invalidInput(path, `missing; expected ${expected}`)
  throw invalidInput(path, `expected ${expected}, got ${describe(value)}`)
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)

/** The closest of `names` to `word`, when it is close enough to be a typo. */
function closest(word, names) {
  const distance = (a, b) => {
    let row = Array.from({ length: b.length + 1 }, (_, i) => i)
    for (let i = 1; i <= a.length; i++) {
      const next = [i]
      for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
      row = next
    }
    return row[b.length]
  }
  let best = null
  for (const name of names) {
    const d = distance(word.toLowerCase(), name.toLowerCase())
    if (d <= Math.max(1, Math.floor(name.length / 3)) && (best === null || d < best.d)) best = { name, d }
  }
  return best?.name ?? null
}

const check = {
  string: (path, v) => (typeof v === 'string' ? v : fail(path, 'a string', v)),
  number: (path, v) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(path, 'a finite number', v)),
  count: (path, v) => (Number.isInteger(v) && v >= 0 ? v : fail(path, 'a whole number ≥ 0', v)),
  boolean: (path, v) => (typeof v === 'boolean' ? v : fail(path, 'a boolean', v)),
  /** An RFC 3339 string or a Date, as the addon's RFC 3339 string. */
  time: (path, v) => {
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? fail(path, 'a valid Date', 'an invalid Date') : v.toISOString()
    return typeof v === 'string' ? v : fail(path, 'an RFC 3339 time string or a Date', v)
  },
  any: (_path, v) => v,
  optional: (spec) => (path, v) => (v === undefined || v === null ? undefined : spec(path, v)),
  oneOf: (names) => (path, v) => {
    if (typeof v !== 'string') return fail(path, `one of ${names.map((n) => `'${n}'`).join(', ')}`, v)
    if (names.includes(v)) return v
    const near = closest(v, names)
    throw invalidInput(path, `unknown value \`${v}\`${near ? ` (did you mean \`${near}\`?)` : ''}; expected one of ${names.join(', ')}`)
  },
  list: (spec) => (path, v) => (Array.isArray(v) ? v.map((x, i) => spec(`${path}[${i}]`, x)) : fail(path, 'an array', v)),
  record: (spec) => (path, v) =>
    isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, spec(`${path}.${k}`, x)])) : fail(path, 'an object', v),
  /** An object with exactly these keys (each checked by its spec): an unknown key is refused naming the valid ones. */
  shape: (fields) => (path, v) => {
    if (!isObject(v)) return fail(path, 'an object', v)
    const valid = Object.keys(fields)
    for (const key of Object.keys(v)) {
      if (!Object.hasOwn(fields, key)) {
        const near = closest(key, valid)
        throw invalidInput(`${path}.${key}`, `unknown key${near ? ` (did you mean \`${near}\`?)` : ''}; valid keys: ${valid.join(', ')}`)
      }
    }
    const out = {}
    for (const [key, spec] of Object.entries(fields)) {
      const value = spec(`${path}.${key}`, v[key])
      if (value !== undefined) out[key] = value
    }
    return out
  },
}
const { string, number, boolean, time, any, optional, list, record, shape } = check

const ACTOR = shape({ user: string, roles: list(string), proof: optional(any) })
/** Who acts: an actor object, or a configured user's name. */
const who = (path, v) => (typeof v === 'string' ? v : isObject(v) ? ACTOR(path, v) : fail(path, "an actor { user, roles } or a user's name", v))
const HOTFIX = shape({ ticket: string, summary: string, justification: string })
const PLAN = shape({
  project: string,
  version: string,
  kind: optional(string),
  release: optional(string),
  scope: optional(list(string)),
  targetDate: optional(string),
  dependencies: optional(record(string)),
  hotfix: optional(HOTFIX),
})
const SIGNED = optional(shape({ signature: optional(string), statement: optional(string) }))
const APPROVE = optional(
  shape({ role: optional(string), channel: optional(string), comment: optional(string), signature: optional(string), statement: optional(string) }),
)
const REJECT = optional(shape({ role: optional(string), channel: optional(string), signature: optional(string), statement: optional(string) }))
const EVIDENCE = optional(shape({ environment: optional(string), target: optional(string) }))
const STEP = optional(shape({ environment: optional(string), ok: optional(boolean), detail: optional(string), retryable: optional(boolean) }))
const RESOLVE = shape({ done: boolean, reason: string })
const QUERY = optional(shape({ project: optional(string), stage: optional(string), environment: optional(string), limit: optional(check.count) }))
const BUNDLE = (path, v) => {
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v)
    } catch (error) {
      throw invalidInput(path, `not JSON: ${error.message}`)
    }
  }
  return isObject(v) ? v : fail(path, 'an evidence bundle (an object, or its JSON text)', v)
}
const VERIFY = optional(shape({ head: optional(string), published: optional(string), bundle: optional(BUNDLE) }))
const AT = optional(shape({ at: optional(time) }))
const PREVIEW = shape({
  action: check.oneOf(['plan', 'approve', 'reject', 'record_evidence', 'advance', 'schedule', 'override_window', 'resolve_step', 'cancel']),
  plan: optional(PLAN),
  approval: optional(string),
  role: optional(string),
  channel: optional(string),
  comment: optional(string),
  gate: optional(string),
  value: optional(number),
  source: optional(string),
  environment: optional(string),
  target: optional(string),
  to: optional(string),
  start: optional(time),
  end: optional(time),
  key: optional(string),
  done: optional(boolean),
  reason: optional(string),
})
const OPEN = optional(
  shape({
    baseDir: optional(string),
    clock: optional(time),
    targets: optional(any),
    checks: optional(any),
    smoke: optional(any),
    notifiers: optional(list(any)),
    ticketing: optional(any),
    artifacts: optional(any),
    backup: optional(any),
  }),
)
const COMMIT_OPTIONS = optional(shape({ body: optional(string), sha: optional(string), author: optional(string), parents: optional(check.count) }))
const COMMIT = shape({ subject: string, body: optional(string), sha: optional(string), author: optional(string), parents: optional(check.count) })
const NOTES_OPTIONS = optional(shape({ version: optional(string), date: optional(string) }))
const KEY = optional(shape({ publicKey: optional(string) }))
const IDENTITY_ACTION = check.oneOf(['rollback', 'override_window', 'emergency_plan'])

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
function normalize(obj, role, methods, path) {
  if (obj === null || typeof obj !== 'object') fail(path, `a ${role}: an object with ${methods.join(', ')}`, obj)
  const missing = REQUIRED[role].filter((m) => typeof obj[m] !== 'function')
  if (missing.length > 0) {
    // A misspelt method would otherwise be found missing only when the engine first calls it.
    const own = methodNames(obj).filter((m) => !methods.includes(m))
    const hints = missing.map((m) => closest(m, own)).map((near, i) => (near ? ` (\`${near}\`: did you mean \`${missing[i]}\`?)` : ''))
    const name = typeof obj.name === 'string' ? obj.name : obj.constructor?.name ?? 'it'
    const list = missing.map((m, i) => `${m}()${hints[i]}`).join(', ')
    throw invalidInput(path, `${name} cannot serve as a ${role}: it has no ${list}; a ${role}'s methods: ${methods.join(', ')}`)
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

/** The methods `obj` has, its class's included. */
function methodNames(obj) {
  const names = new Set()
  for (let o = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== 'constructor' && typeof obj[name] === 'function') names.add(name)
  }
  return [...names]
}

/** The methods each kind of port must have; the others are optional. */
const REQUIRED = {
  'deploy-target': ['deploy', 'rollback'],
  notifier: ['send'],
  probe: ['check'],
  ticketing: ['get', 'openBugs', 'comment', 'transition', 'createReleaseTicket'],
  'artifact-store': ['put', 'get', 'exists', 'versions'],
  backup: ['backup', 'verify', 'restore'],
}

function envPorts(map, role, methods, path) {
  if (map === undefined) return undefined
  const out = {}
  for (const [env, list] of Object.entries(check.record(check.any)(path, map))) {
    out[env] = Array.isArray(list)
      ? list.map((p, i) => normalize(p, role, methods, `${path}.${env}[${i}]`))
      : [normalize(list, role, methods, `${path}.${env}`)]
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
  static open(config = null, options = {}) {
    return call(async () => {
      if (config !== null && config !== undefined && typeof config !== 'string' && !isObject(config)) {
        fail('config', 'a shipwarden.toml path, an object of its shape, or null', config)
      }
      const text = config === null || config === undefined ? null : typeof config === 'string' ? config : JSON.stringify(config)
      if (typeof config === 'string' && config.trimStart().startsWith('{')) {
        throw invalidInput('config', 'a config string is a path; pass an object for an inline configuration')
      }
      const o = OPEN('options', options) ?? {}
      const ports = {
        targets: envPorts(o.targets, 'deploy-target', METHODS.target, 'options.targets'),
        checks: envPorts(o.checks, 'probe', METHODS.probe, 'options.checks'),
        smoke: envPorts(o.smoke, 'probe', METHODS.probe, 'options.smoke'),
        notifiers: o.notifiers?.map((n, i) => normalize(n, 'notifier', METHODS.notifier, `options.notifiers[${i}]`)),
        ticketing: o.ticketing && normalize(o.ticketing, 'ticketing', METHODS.ticketing, 'options.ticketing'),
        artifacts: o.artifacts && normalize(o.artifacts, 'artifact-store', METHODS.artifacts, 'options.artifacts'),
        backup: o.backup && normalize(o.backup, 'backup', METHODS.backup, 'options.backup'),
      }
      return new ReleaseManager(await native.ReleaseManager.open(text, { baseDir: o.baseDir, clock: o.clock }, ports))
    })
  }

  /** The actor of a configured user (`[users.NAME]`). */
  actor(user) {
    return sync(() => this.#native.actor(string('user', user)))
  }
  /** Moves a fixed clock (one opened with `clock`) forward by `seconds`. */
  advanceClock(seconds) {
    return sync(() => this.#native.advanceClock(number('seconds', seconds)))
  }
  /** The policy in force, as TOML. */
  policyToml() {
    return this.#native.policyToml()
  }
  /** This manager's driver id: the start of the holder of every lease it takes. */
  driver() {
    return this.#native.driver()
  }
  /** The configured signer's public key (hex), or null. */
  signingKey() {
    return this.#native.signingKey()
  }
  /** The signed heads that could not be published since the last call (R-9d). */
  takeUnpublished() {
    return this.#native.takeUnpublished()
  }
  plan(actor, plan, options) {
    return call(() => this.#native.plan(who('actor', actor), PLAN('plan', plan), SIGNED('options', options)))
  }
  approve(release, actor, approval, options) {
    return call(() => this.#native.approve(string('release', release), who('actor', actor), string('approval', approval), APPROVE('options', options)))
  }
  approvalStatement(release, actor, approval, options) {
    return call(() =>
      this.#native.approvalStatement(string('release', release), who('actor', actor), string('approval', approval), APPROVE('options', options)),
    )
  }
  reject(release, actor, approval, reason, options) {
    return call(() =>
      this.#native.reject(string('release', release), who('actor', actor), string('approval', approval), string('reason', reason), REJECT('options', options)),
    )
  }
  rejectionStatement(release, actor, approval, reason, options) {
    return call(() =>
      this.#native.rejectionStatement(
        string('release', release),
        who('actor', actor),
        string('approval', approval),
        string('reason', reason),
        REJECT('options', options),
      ),
    )
  }
  actionStatement(release, actor, action, reason) {
    return call(() =>
      this.#native.actionStatement(string('release', release), who('actor', actor), IDENTITY_ACTION('action', action), string('reason', reason)),
    )
  }
  checkpoints(release) {
    return call(() => this.#native.checkpoints(string('release', release)))
  }
  verifyAudit(release, options) {
    return call(() => this.#native.verifyAudit(string('release', release), VERIFY('options', options)))
  }
  recordEvidence(release, actor, gate, value, source, options) {
    return call(() =>
      this.#native.recordEvidence(
        string('release', release),
        who('actor', actor),
        string('gate', gate),
        number('value', value),
        string('source', source),
        EVIDENCE('options', options),
      ),
    )
  }
  advance(release, actor, to) {
    return call(() => this.#native.advance(string('release', release), who('actor', actor), string('to', to)))
  }
  schedule(release, actor, environment, start, end) {
    return call(() =>
      this.#native.schedule(string('release', release), who('actor', actor), string('environment', environment), time('start', start), time('end', end)),
    )
  }
  overrideWindow(release, actor, reason, options) {
    return call(() => this.#native.overrideWindow(string('release', release), who('actor', actor), string('reason', reason), SIGNED('options', options)))
  }
  cancel(release, actor, reason) {
    return call(() => this.#native.cancel(string('release', release), who('actor', actor), string('reason', reason)))
  }
  rollback(release, actor, reason, options) {
    return call(() => this.#native.rollback(string('release', release), who('actor', actor), string('reason', reason), SIGNED('options', options)))
  }
  reportStep(release, actor, step, options) {
    return call(() => this.#native.reportStep(string('release', release), who('actor', actor), string('step', step), STEP('options', options)))
  }
  resolve(release, actor, step, options) {
    return call(() => this.#native.resolve(string('release', release), who('actor', actor), string('step', step), RESOLVE('options', options)))
  }
  preview(release, actor, action, options) {
    return call(() =>
      this.#native.preview(string('release', release), who('actor', actor), PREVIEW('action', action), AT('options', options)?.at),
    )
  }
  status(release, options) {
    return call(() => {
      const at = AT('options', options)?.at
      const id = string('release', release)
      return at === undefined ? this.#native.status(id) : this.#native.statusAt(id, at)
    })
  }
  state(release) {
    return call(() => this.#native.state(string('release', release)))
  }
  findings(release) {
    return call(() => this.#native.findings(string('release', release)))
  }
  history(release) {
    return call(() => this.#native.history(string('release', release)))
  }
  /** The stages the policy declares, in order: the built-in ones and its own. */
  stages() {
    return this.#native.declaredStages()
  }
  /** A list query, its stage one the policy declares: a typo would otherwise match nothing, silently. */
  #query(query) {
    const q = QUERY('query', query)
    if (q?.stage !== undefined) check.oneOf(this.stages())('query.stage', q.stage)
    return q
  }
  list(query) {
    return call(() => this.#native.list(this.#query(query)))
  }
  listChecked(query) {
    return call(() => this.#native.listChecked(this.#query(query)))
  }
  lease(name) {
    return call(() => this.#native.lease(string('name', name)))
  }
  defaultScope(version) {
    return call(() => this.#native.defaultScope(string('version', version)))
  }
  due(options) {
    return call(() => this.#native.due(AT('options', options)?.at))
  }
  runDue(options) {
    return call(() => this.#native.runDue(AT('options', options)?.at))
  }
  run(release, until) {
    return call(() => this.#native.run(string('release', release), optional(string)('until', until)))
  }
  verify(release) {
    return call(() => this.#native.verify(string('release', release)))
  }
  deploy(release, environment) {
    return call(() => this.#native.deploy(string('release', release), string('environment', environment)))
  }
  notes(release) {
    return call(() => this.#native.notes(string('release', release)))
  }
  evidenceBundle(release) {
    return call(() => this.#native.evidenceBundle(string('release', release)))
  }
  verifyEvidence(bundle, options) {
    return call(() => this.#native.verifyEvidence(BUNDLE('bundle', bundle), KEY('options', options)?.publicKey))
  }
  publishHeads(release) {
    return call(() => this.#native.publishHeads(string('release', release)))
  }

  /** Calls `listener` with every audit event (`'event'`) or step log line (`'log'`) as it is appended. */
  on(kind, listener) {
    const listeners = this.#listeners[kind]
    if (!listeners) throw invalidInput('kind', `unknown event kind \`${kind}\`; expected 'event' or 'log'`)
    if (typeof listener !== 'function') fail('listener', 'a function', listener)
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
  return sync(() => native.parseCommit({ subject: string('subject', subject), ...COMMIT_OPTIONS('options', options) }))
}

/** Release notes for commits (oldest first). */
function releaseNotes(project, commits, options = {}) {
  return sync(() => {
    const o = NOTES_OPTIONS('options', options) ?? {}
    return native.releaseNotes(string('project', project), list(COMMIT)('commits', commits), o.version, o.date)
  })
}

/** The commented `shipwarden.toml` that `shipwarden init` writes for `project`. */
function defaultConfig(project) {
  return sync(() => native.defaultConfig(project))
}

/** Signs an approval statement with an SSH key file (or a `.pub` whose private half ssh-agent holds): the armored signature. */
function signStatement(statement, keyFile) {
  return sync(() => native.signStatement(string('statement', statement), string('keyFile', keyFile)))
}

/**
 * Checks an evidence bundle offline, as `shipwarden evidence verify` does (R-9d): its signature
 * (by `publicKey` when given), its chain, every section against the chain, and every signed approval.
 * Resolves with what it says; rejects with `IntegrityError` when it does not verify.
 */
function verifyEvidence(bundle, options) {
  return call(() => native.verifyEvidence(BUNDLE('bundle', bundle), KEY('options', options)?.publicKey))
}

/** For benches/node_overhead.cjs, not public API: a JS deploy target's `status` called from Rust `n` times; mean ns. */
function benchJsPort(target, n) {
  return call(() => native.benchJsPort(normalize(target, 'deploy-target', METHODS.target, 'target'), n))
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
  defaultConfig,
  verifyEvidence,
}

// The bench helper is reachable for benches/node_overhead.cjs only: not enumerable, not in index.d.ts or index.mjs.
Object.defineProperty(module.exports, '_bench', { value: Object.freeze({ jsPort: benchJsPort }), enumerable: false })
