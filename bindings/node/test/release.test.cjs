'use strict'
// The main scenarios of the Rust suite, driven from Node.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const sw = require('..')
const { RITA, SATURDAY, person, Inbox, smoke, environments, drive, openManager } = require('./helpers.cjs')

test('a full release from plan to close', async () => {
  const targets = environments()
  const inbox = new Inbox()
  const manager = await openManager(targets, inbox)
  const planned = await manager.plan(RITA, { project: 'shop', version: '1.4.0', scope: ['SHOP-12'] })
  assert.equal(planned.id, 'shop-1.4.0')
  assert.equal(planned.stage, sw.Stage.PLANNED)

  const outcome = await drive(manager, 'shop-1.4.0')

  assert.equal(outcome.outcome, 'final')
  assert.equal(outcome.stage, sw.Stage.CLOSED)
  for (const list of Object.values(targets)) for (const t of list) assert.deepEqual(t.deployed, ['1.4.0'])
  const status = await manager.status('shop-1.4.0')
  assert.deepEqual(status.release.path.slice(0, 3), ['planned', 'scope_approved', 'built'])
  assert.deepEqual(status.release.path.slice(-2), ['released', 'closed'])
  assert.ok(status.release.gateResults.every((g) => g.passed))
  const [prod1] = status.release.steps.filter((s) => s.target === 'prod-1')
  assert.equal(prod1.ok, true)
  assert.deepEqual(prod1.log, ['prod-1 installs 1.4.0'])
  assert.deepEqual(inbox.notices.map((n) => n.subject), ['Released shop 1.4.0'])
  const history = await manager.history('shop-1.4.0')
  assert.equal(history[0].kind, 'planned')
  for (let i = 1; i < history.length; i++) assert.equal(history[i].prevHash, history[i - 1].hash)
  assert.match(await manager.notes('shop-1.4.0'), /## shop 1\.4\.0/)
  const [summary] = await manager.list({ project: 'shop' })
  assert.equal(summary.stage, 'closed')
})

test('a refusal names the rule, the stage and every unmet requirement (R-2b, R-3, R-2d)', async () => {
  const manager = await openManager(environments(), new Inbox())
  await manager.plan(RITA, { project: 'shop', version: '1.4.0' })

  await assert.rejects(manager.advance('shop-1.4.0', RITA, sw.Stage.SCOPE_APPROVED), (error) => {
    assert.ok(error instanceof sw.RefusedError && error instanceof sw.ShipwardenError && error instanceof Error)
    assert.equal(error.code, 'REFUSED')
    assert.equal(error.rule, 'R-2b')
    assert.equal(error.stage, 'planned')
    assert.equal(error.attempted, 'advance to scope_approved')
    assert.equal(error.retryable, false)
    assert.deepEqual(error.unmet.map((u) => [u.rule, u.requirement, u.approval, u.roles]), [
      ['R-2b', 'approval', 'scope', ['product_owner']],
    ])
    return true
  })
  await assert.rejects(manager.advance('shop-1.4.0', RITA, 'prod_ready'), { code: 'REFUSED', rule: 'R-3' })
  const both = { user: 'rita', roles: ['release_manager', 'product_owner'] }
  await assert.rejects(manager.approve('shop-1.4.0', both, 'scope', { role: 'product_owner' }), (e) => {
    assert.ok(e.unmet.some((u) => u.rule === 'R-2d'))
    return true
  })
  assert.equal((await manager.history('shop-1.4.0')).length, 1)
})

test('an emergency release needs the CTO (R-5a)', async () => {
  const targets = environments()
  const inbox = new Inbox()
  const manager = await openManager(targets, inbox)
  const hotfix = { ticket: 'SHOP-99', summary: 'HOTFIX: payments fail', justification: 'customers cannot pay' }
  await manager.plan(RITA, { project: 'shop', version: '1.4.1', kind: 'emergency', scope: ['SHOP-99'], hotfix })

  const waiting = await drive(manager, 'shop-1.4.1', ['emergency'])
  assert.equal(waiting.outcome, 'waiting')
  assert.ok(waiting.refusal.rules.includes('R-5a'))
  assert.ok(targets.prod.every((t) => t.deployed.length === 0))
  await assert.rejects(manager.approve('shop-1.4.1', person('release_manager'), 'emergency'), (e) => {
    assert.deepEqual(e.unmet.map((u) => u.rule), ['R-2d'])
    assert.match(e.unmet[0].message, /cto/)
    return true
  })

  await manager.approve('shop-1.4.1', person('cto'), 'emergency', { comment: 'go' })
  const outcome = await drive(manager, 'shop-1.4.1')
  assert.ok(['released', 'closed'].includes(outcome.stage))
  assert.ok(targets.prod.every((t) => t.deployed[0] === '1.4.1'))
})

test('a failed smoke test rolls production back (R-8f, R-8g)', async () => {
  const targets = environments()
  const inbox = new Inbox()
  const manager = await openManager(targets, inbox, smoke({ status: 500 }))
  await manager.plan(RITA, { project: 'shop', version: '1.4.0' })

  const outcome = await drive(manager, 'shop-1.4.0')

  assert.equal(outcome.outcome, 'rolled_back')
  assert.equal(outcome.stage, sw.Stage.ROLLED_BACK)
  assert.match(outcome.reason, /smoke_test on prod failed.*GET \/health answered 500/)
  assert.ok(targets.prod.every((t) => t.rolledBack.length === 1))
  assert.deepEqual(targets.staging[0].rolledBack, [])
  const release = (await manager.status('shop-1.4.0')).release
  assert.equal(release.rollbackReason, outcome.reason)
  assert.ok(['backup', 'restore_test', 'rollback'].every((s) => release.steps.some((x) => x.step === s && x.ok)))
  assert.ok(inbox.notices.some((n) => /roll/i.test(n.subject)))
})

test('an object config, its users, and its errors', async (t) => {
  const fs = require('node:fs')
  const os = require('node:os')
  const path = require('node:path')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-node-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const config = { project: { name: 'shop', state_dir: 'state' }, users: { rita: { roles: ['release_manager'] } } }
  const manager = await sw.ReleaseManager.open(config, { baseDir: dir, clock: SATURDAY })
  assert.deepEqual(manager.actor('rita'), RITA)
  const release = await manager.plan('rita', { project: 'shop', version: '1.0.0' })
  assert.equal(release.author, 'rita')
  assert.ok(fs.existsSync(path.join(dir, 'state')))
  await assert.rejects(manager.plan('nobody', { project: 'shop', version: '1.0.1' }), sw.InvalidInputError)

  const bad = { project: { name: 'shop', colour: 'blue' } }
  await assert.rejects(sw.ReleaseManager.open(bad, { baseDir: dir }), (e) => {
    assert.ok(e instanceof sw.ConfigError)
    assert.equal(e.code, 'CONFIG')
    assert.ok(e.problems.length > 0 && e.problems.every((p) => typeof p.path === 'string'))
    assert.match(e.message, /colour/)
    return true
  })
  await assert.rejects(sw.ReleaseManager.open(path.join(dir, 'nope.toml')), { code: 'CONFIG' })
})

test('bad input is a clear error, never a crash', async () => {
  const manager = await sw.ReleaseManager.open(null, { clock: SATURDAY })
  await assert.rejects(manager.plan(RITA, { project: 'shop', version: 'one.two' }), { code: 'INVALID_INPUT', message: /SemVer/ })
  await assert.rejects(manager.plan(RITA, { project: 'shop', version: '1.0.0', kind: 'hourly' }), sw.InvalidInputError)
  await assert.rejects(manager.status('shop-9.9.9'), sw.NotFoundError)
  await assert.rejects(manager.status('no spaces'), sw.InvalidInputError)
  await assert.rejects(manager.approve('shop-1.0.0', { user: 'x', roles: ['qa_lead', 'cto'] }, 'scope'), /several roles/)
  await assert.rejects(sw.ReleaseManager.open(null, { targets: { prod: [{ name: 'x' }] } }), /cannot serve as a deploy-target/)
  await assert.rejects(sw.ReleaseManager.open(null, { clock: 'yesterday' }), sw.InvalidInputError)
})

test('commit parsing and release notes', () => {
  const commit = sw.parseCommit('feat(api)!: add search SHOP-7', { body: 'BREAKING CHANGE: v1 is gone', author: 'ann' })
  assert.deepEqual([commit.kind, commit.scope, commit.breaking, commit.tickets, commit.group], ['feat', 'api', true, ['SHOP-7'], 'Breaking changes'])
  const notes = sw.releaseNotes('shop', [{ subject: 'feat: search SHOP-7', author: 'ann' }, { subject: 'Fix #123: login', author: 'bob' }], { version: '2.0.0', date: '2026-11-28' })
  assert.deepEqual(notes.contributors, ['ann', 'bob'])
  assert.match(notes.markdown, /^## shop 2\.0\.0 \(2026-11-28\)/)
  assert.throws(() => sw.releaseNotes('shop', [], { version: 'x' }), sw.InvalidInputError)
})
