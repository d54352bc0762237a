'use strict'
// Everything the Rust ReleaseManager offers a script or a UI, from Node
// (issue #20): duties, findings, preview, evidence bundles, signed heads,
// signed rollbacks, overrides and emergency plans, leases; and parity.toml
// names a method of this package for every Rust operation, or says why not.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const sw = require('..')
const { RITA, SATURDAY, Inbox, environments, drive, openManager } = require('./helpers.cjs')

const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'

/** Reads parity.toml: its one `[operations]` table of `name = "jsName"` or `name = { reason = "…" }`. */
function readParity() {
  const text = fs.readFileSync(path.join(__dirname, '..', 'parity.toml'), 'utf8')
  const operations = new Map()
  let table = null
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const header = /^\[(\w+)\]$/.exec(line)
    if (header) {
      table = header[1]
      continue
    }
    assert.equal(table, 'operations', `parity.toml:${i + 1}: every entry belongs in [operations]`)
    const entry = /^([a-z_][a-z0-9_]*)\s*=\s*(?:"([A-Za-z][A-Za-z0-9]*)"|\{\s*reason\s*=\s*"((?:[^"\\]|\\.)+)"\s*\})$/.exec(line)
    assert.ok(entry, `parity.toml:${i + 1}: expected name = "jsName" or name = { reason = "…" }, got: ${line}`)
    assert.ok(!operations.has(entry[1]), `parity.toml:${i + 1}: ${entry[1]} is listed twice`)
    operations.set(entry[1], entry[2] ? { js: entry[2] } : { reason: entry[3] })
  }
  return operations
}

test('parity.toml names a ReleaseManager method for every Rust operation, or a reason (issue #20)', () => {
  const operations = readParity()
  assert.ok(operations.size >= 40, `parity.toml lists ${operations.size} operations`)
  const missing = []
  for (const [rust, entry] of operations) {
    if (entry.js && typeof sw.ReleaseManager.prototype[entry.js] !== 'function' && typeof sw.ReleaseManager[entry.js] !== 'function') {
      missing.push(`${rust} → ${entry.js}`)
    }
    if (entry.reason) assert.ok(entry.reason.length > 10, `${rust}: a reason says why`)
  }
  assert.deepEqual(missing, [], 'every name in parity.toml is a method of ReleaseManager')
  for (const must of ['due', 'run_due', 'evidence_bundle', 'preview', 'override_window', 'publish_heads', 'take_unpublished', 'checkpoints']) {
    assert.ok(operations.get(must)?.js, `${must} has a Node method`)
  }
})

/** Every `pub fn` / `pub async fn` inside `impl ReleaseManager` blocks of core/src/engine, when the sources are here. */
function rustOperations() {
  const dir = path.join(__dirname, '..', '..', '..', 'core', 'src', 'engine')
  if (!fs.existsSync(dir)) return null
  const names = new Set()
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.rs'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8')
    for (const block of text.matchAll(/^impl ReleaseManager \{\n([\s\S]*?)^\}/gm)) {
      for (const fn of block[1].matchAll(/^    pub (?:async )?fn (\w+)/gm)) names.add(fn[1])
    }
  }
  return names
}

test('parity.toml lists exactly the Rust ReleaseManager operations (issue #20)', (t) => {
  const rust = rustOperations()
  if (rust === null) return t.skip('no core sources beside this package')
  const listed = new Set(readParity().keys())
  assert.deepEqual([...rust].filter((n) => !listed.has(n)).sort(), [], 'operations missing from parity.toml')
  assert.deepEqual([...listed].filter((n) => !rust.has(n)).sort(), [], 'parity.toml names operations Rust does not have')
})

test('preview: the decision a command would meet, nothing recorded (dry run)', async () => {
  const manager = await openManager(environments(), new Inbox())
  await manager.plan(RITA, { project: 'shop', version: '1.4.0' })
  const before = (await manager.history('shop-1.4.0')).length

  const events = await manager.preview('shop-1.4.0', { user: 'paula', roles: ['product_owner'] }, { action: 'approve', approval: 'scope' })
  assert.ok(events.some((e) => e.kind === 'approved'))
  await assert.rejects(manager.preview('shop-1.4.0', RITA, { action: 'advance', to: sw.Stage.SCOPE_APPROVED }), {
    name: 'RefusedError',
    rule: 'R-2b',
  })
  // A gate's value is judged by its unit, in a preview as in the real call (R-7g).
  await assert.rejects(
    manager.preview('shop-1.4.0', RITA, { action: 'record_evidence', gate: 'coverage', value: 93 }),
    (e) => e instanceof sw.ShipwardenError && /0\.93/.test(e.message),
  )
  assert.equal((await manager.history('shop-1.4.0')).length, before, 'a preview records nothing')
  await assert.rejects(manager.preview('shop-1.4.0', RITA, { action: 'advnce', to: 'built' }), (e) => {
    assert.ok(e instanceof sw.InvalidInputError)
    assert.equal(e.path, 'action.action')
    assert.match(e.message, /did you mean `advance`/)
    return true
  })
})

test('findings, state, statusAt, listChecked, lease and driver', async () => {
  const manager = await openManager(environments(), new Inbox())
  await manager.plan(RITA, { project: 'shop', version: '1.4.0' })
  assert.deepEqual(await manager.findings('shop-1.4.0'), [])
  assert.equal((await manager.state('shop-1.4.0')).stage, 'planned')
  const later = await manager.status('shop-1.4.0', { at: new Date('2026-12-01T10:00:00Z') })
  assert.equal(later.release.stage, 'planned')
  const listing = await manager.listChecked({ project: 'shop' })
  assert.deepEqual(listing.releases.map((r) => r.release), ['shop-1.4.0'])
  assert.deepEqual(listing.mismatches, [])
  assert.equal(await manager.lease('release:shop-1.4.0'), null)
  assert.equal(typeof manager.driver(), 'string')
  assert.deepEqual(await manager.defaultScope('1.4.0'), [])
  await assert.rejects(manager.findings('shop-9.9.9'), sw.NotFoundError)
})

test('due and runDue: a missing approval is reminded once, and a second run finds it done (R-2b)', async () => {
  const inbox = new Inbox()
  const manager = await openManager(environments(), inbox)
  await manager.plan(RITA, { project: 'shop', version: '1.4.0' })
  assert.deepEqual(await manager.due(), [])
  const dayLater = '2026-11-29T11:00:00Z'
  const due = await manager.due({ at: dayLater })
  assert.ok(due.length >= 1, 'a reminder is due a day later')
  assert.equal(due[0].release, 'shop-1.4.0')
  assert.equal(due[0].kind, 'approval_reminder')
  const reports = await manager.runDue({ at: dayLater })
  assert.equal(reports.length, due.length)
  assert.ok(reports.every((r) => r.ok))
  assert.ok(inbox.notices.length >= 1)
  assert.deepEqual(await manager.runDue({ at: dayLater }), [], 'each duty once')
})

test('a rejection blocks the approval until its author approves (R-2b, R-2c, R-2d)', async () => {
  // The same scenario as test_parity.py, step for step.
  const manager = await openManager(environments(), new Inbox())
  await manager.plan(RITA, { project: 'shop', version: '1.0.0' })
  const paul = { user: 'paul', roles: ['product_owner'] }
  let release = await manager.reject('shop-1.0.0', paul, 'scope', 'SHOP-12 is not ready', { channel: 'email' })
  assert.equal(release.rejections.length, 1)
  const [rejection] = release.rejections
  assert.deepEqual(
    [rejection.approval, rejection.user, rejection.role, rejection.channel, rejection.comment],
    ['scope', 'paul', 'product_owner', 'email', 'SHOP-12 is not ready'],
  )
  assert.deepEqual(release.approvals, [], 'a rejection is not an approval')
  assert.equal((await manager.history('shop-1.0.0')).at(-1).kind, 'rejected')

  // Another product owner approves: the count is met, the rejection still stands.
  await manager.approve('shop-1.0.0', { user: 'pia', roles: ['product_owner'] }, 'scope')
  await assert.rejects(manager.advance('shop-1.0.0', RITA, sw.Stage.SCOPE_APPROVED), (e) => {
    assert.ok(e instanceof sw.RefusedError)
    assert.equal(e.rule, 'R-2b')
    assert.equal(e.unmet.length, 1)
    const [unmet] = e.unmet
    assert.deepEqual(
      [unmet.rule, unmet.requirement, unmet.approval, unmet.user, unmet.reason],
      ['R-2b', 'rejected', 'scope', 'paul', 'SHOP-12 is not ready'],
    )
    assert.match(e.message, /rejected by paul \(product_owner\)/)
    return true
  })
  // The status says the same of the way forward.
  const next = (await manager.status('shop-1.0.0')).next.find((n) => n.stage === sw.Stage.SCOPE_APPROVED)
  assert.ok(next?.refusal?.unmet.some((u) => u.requirement === 'rejected' && u.user === 'paul' && u.reason === 'SHOP-12 is not ready'))

  // A rejection needs a reason (R-2c); nothing is recorded.
  const before = (await manager.history('shop-1.0.0')).length
  await assert.rejects(manager.reject('shop-1.0.0', { user: 'pia', roles: ['product_owner'] }, 'scope', '  '), (e) => {
    assert.ok(e instanceof sw.RefusedError)
    assert.equal(e.rule, 'R-2c')
    assert.match(e.message, /a rejection needs a reason/)
    return true
  })
  // Rejecting twice is refused (R-2d).
  await assert.rejects(manager.reject('shop-1.0.0', paul, 'scope', 'still not ready'), (e) => {
    assert.ok(e instanceof sw.RefusedError)
    assert.equal(e.rule, 'R-2d')
    assert.deepEqual(e.unmet.map((u) => u.requirement), ['duplicate_rejection'])
    assert.equal(e.unmet[0].user, 'paul')
    return true
  })
  assert.equal((await manager.history('shop-1.0.0')).length, before, 'a refused rejection records nothing')

  // The same person approving lifts it.
  await manager.approve('shop-1.0.0', paul, 'scope')
  release = await manager.advance('shop-1.0.0', RITA, sw.Stage.SCOPE_APPROVED)
  assert.equal(release.stage, sw.Stage.SCOPE_APPROVED)
  assert.equal(release.rejections.length, 1, 'lifted, still on record')

  // Arguments are checked before anything is decided.
  await assert.rejects(manager.reject('shop-1.0.0', paul, 'scope', 'no', { channel: 'pigeon' }), sw.InvalidInputError)
  await assert.rejects(manager.reject('shop-1.0.0', paul, 'scope', 'no', { signature: 'x' }), { name: 'InvalidInputError', message: /go together/ })
  await assert.rejects(manager.reject('shop-1.0.0', paul, 'scope', 'no', { comment: 'x' }), { name: 'InvalidInputError', path: 'options.comment' })
  await assert.rejects(manager.reject('shop-1.0.0', paul, 'scope'), { name: 'InvalidInputError', path: 'reason' })
  // A preview of a rejection records nothing.
  const events = await manager.preview('shop-1.0.0', paul, { action: 'reject', approval: 'acceptance', role: 'product_owner', reason: 'not yet' })
  assert.deepEqual(events.map((e) => e.kind), ['rejected'])
})

test('an evidence bundle, signed, verifies offline; a changed one rejects with IntegrityError (R-9d)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-node-bundle-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  process.env.SW_NODE_BUNDLE_KEY = SEED
  const config = {
    project: { name: 'shop', state_dir: 'state' },
    users: { rita: { roles: ['release_manager'] } },
    evidence: { signing_key_env: 'SW_NODE_BUNDLE_KEY' },
  }
  const manager = await sw.ReleaseManager.open(config, { baseDir: dir, clock: SATURDAY })
  await manager.plan('rita', { project: 'shop', version: '1.0.0' })
  const bundle = await manager.evidenceBundle('shop-1.0.0')
  assert.equal(bundle.bundle.release, 'shop-1.0.0')
  assert.ok(bundle.signature, 'signed with [evidence] signing_key_env')
  assert.equal(manager.signingKey(), bundle.signature.public_key)

  const verified = await sw.verifyEvidence(JSON.stringify(bundle))
  assert.equal(verified.verified, true)
  assert.equal(verified.release, 'shop-1.0.0')
  assert.equal(verified.events, bundle.bundle.audit.events)
  assert.equal((await manager.verifyEvidence(bundle)).head, bundle.bundle.audit.head)

  const changed = structuredClone(bundle)
  changed.bundle.plan.version = '9.9.9'
  await assert.rejects(sw.verifyEvidence(changed), (e) => {
    assert.ok(e instanceof sw.IntegrityError)
    assert.equal(e.release, 'shop-1.0.0')
    return true
  })
  await assert.rejects(sw.verifyEvidence(bundle, { publicKey: '00'.repeat(32) }), sw.IntegrityError)
  await assert.rejects(sw.verifyEvidence('{not json'), { name: 'InvalidInputError', path: 'bundle' })

  // verifyAudit against what is known from elsewhere: a published signed head and the bundle (R-9d).
  const [checkpoint] = bundle.bundle.checkpoints ?? []
  assert.ok(checkpoint, 'the plan was checkpointed')
  const report = await manager.verifyAudit('shop-1.0.0', { published: JSON.stringify(checkpoint), bundle })
  assert.equal(report.ok, true)
  const flipped = checkpoint.head.slice(0, -1) + (checkpoint.head.endsWith('0') ? '1' : '0')
  await assert.rejects(manager.verifyAudit('shop-1.0.0', { published: JSON.stringify({ ...checkpoint, head: flipped }) }), (e) => {
    assert.ok(e instanceof sw.IntegrityError, `${e.name}: ${e.message}`)
    assert.match(e.message, /published heads/)
    return true
  })
  await assert.rejects(manager.verifyAudit('shop-1.0.0', { published: 'nothing here' }), { name: 'InvalidInputError' })
  await assert.rejects(manager.verifyAudit('shop-1.0.0', { bundle: changed }), sw.IntegrityError)

  assert.deepEqual(await manager.publishHeads('shop-1.0.0'), [], 'no destination is configured')
  assert.deepEqual(manager.takeUnpublished(), [])
})

function hasSshKeygen() {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' })
  } catch (e) {
    return e.status !== undefined && e.code !== 'ENOENT'
  }
  return true
}

test('a window override, a rollback and an emergency plan signed with SSH are accepted where unsigned ones are refused (R-2d)', { skip: !hasSshKeygen() && 'no ssh-keygen' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-node-acting-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const key = path.join(dir, 'carl')
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'carl', '-f', key])
  const pub = fs.readFileSync(`${key}.pub`, 'utf8').trim()
  const config = {
    project: { name: 'shop', state_dir: 'state' },
    users: { rita: { roles: ['release_manager'] }, carl: { roles: ['cto', 'release_manager'], ssh_keys: [pub] } },
    identity: { trust: 'verified' },
  }
  const manager = await sw.ReleaseManager.open(config, { baseDir: dir, clock: SATURDAY })
  await manager.plan('carl', { project: 'shop', version: '1.0.0' })

  // A window override (R-6b).
  await assert.rejects(manager.overrideWindow('shop-1.0.0', 'carl', 'outage fix'), (e) => e instanceof sw.RefusedError && /R-2d/.test(e.message))
  const statement = await manager.actionStatement('shop-1.0.0', 'carl', 'override_window', 'outage fix')
  assert.match(statement, /override_window/)
  const other = await manager.actionStatement('shop-1.0.0', 'carl', 'override_window', 'another reason')
  await assert.rejects(
    manager.overrideWindow('shop-1.0.0', 'carl', 'outage fix', { signature: sw.signStatement(other, key), statement: other }),
    sw.RefusedError,
  )
  const overridden = await manager.overrideWindow('shop-1.0.0', 'carl', 'outage fix', { signature: sw.signStatement(statement, key), statement })
  assert.equal(overridden.stage, 'planned')
  const history = await manager.history('shop-1.0.0')
  assert.equal(history.at(-1).kind, 'window_overridden')

  // The statement of a rollback names the action; a signature alone is refused.
  assert.match(await manager.actionStatement('shop-1.0.0', 'carl', 'rollback', 'bad build'), /rollback/)
  await assert.rejects(manager.rollback('shop-1.0.0', 'carl', 'bad build', { signature: 'x' }), {
    name: 'InvalidInputError',
    message: /go together/,
  })
  await assert.rejects(manager.actionStatement('shop-1.0.0', 'carl', 'approve', 'x'), { name: 'InvalidInputError', path: 'action' })
})

test('checkpoints verify against a head known from elsewhere (R-9d)', async () => {
  const manager = await openManager(environments(), new Inbox())
  await manager.plan(RITA, { project: 'shop', version: '1.4.0' })
  const outcome = await drive(manager, 'shop-1.4.0')
  assert.equal(outcome.outcome, 'final')
  const history = await manager.history('shop-1.4.0')
  const report = await manager.verifyAudit('shop-1.4.0', { head: history.at(-1).hash })
  assert.equal(report.head, history.at(-1).hash)
  await assert.rejects(manager.verifyAudit('shop-1.4.0', { head: history.at(-2).hash }), sw.IntegrityError)
})
