'use strict'
// Mistakes are errors (issue #20): an unknown stage, option key or gate is
// refused naming the valid ones; a wrong argument type rejects (never
// throws) as an InvalidInputError with the argument's path, so `.catch()`
// and `instanceof ShipwardenError` see it.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const sw = require('..')
const { RITA, Inbox, environments, openManager } = require('./helpers.cjs')

/** Asserts `call()` returns a Promise (no synchronous throw) that rejects as an InvalidInputError at `path`. */
async function rejectsAt(call, path, message) {
  let promise
  assert.doesNotThrow(() => {
    promise = call()
  }, 'a mistake rejects; it never throws synchronously')
  assert.ok(promise instanceof Promise)
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof sw.InvalidInputError, `${e.name}: ${e.message}`)
    assert.ok(e instanceof sw.ShipwardenError)
    assert.equal(e.code, 'INVALID_INPUT')
    assert.equal(e.path, path)
    assert.ok(e.message.startsWith(`${path}: `), e.message)
    if (message) assert.match(e.message, message)
    return true
  })
}

async function planned() {
  const manager = await openManager(environments(), new Inbox())
  await manager.plan(RITA, { project: 'shop', version: '1.4.0' })
  return manager
}

test('run(id, "nowhere") is refused naming the stages (R-3)', async () => {
  const manager = await planned()
  await assert.rejects(manager.run('shop-1.4.0', 'nowhere'), (e) => {
    assert.ok(e instanceof sw.ShipwardenError)
    assert.ok(e instanceof sw.RefusedError || e instanceof sw.InvalidInputError, e.name)
    assert.match(e.message, /nowhere/)
    assert.match(e.message, /staging_deployed/)
    return true
  })
  // The typo of the issue: a hyphen for an underscore.
  await assert.rejects(manager.run('shop-1.4.0', 'staging-deployed'), /staging_deployed/)
  assert.equal((await manager.status('shop-1.4.0')).release.stage, 'planned', 'nothing ran')
  await rejectsAt(() => manager.run('shop-1.4.0', 7), 'until', /expected a string, got number/)
})

test('argument types reject with the argument path, never throw (napi StringExpected / InvalidArg)', async () => {
  const manager = await planned()
  await rejectsAt(() => manager.plan(RITA, { project: 'shop', version: 140 }), 'plan.version', /expected a string, got number/)
  await rejectsAt(() => manager.plan(RITA, { version: '1.5.0' }), 'plan.project', /missing/)
  await rejectsAt(() => manager.plan({ user: 'rita', roles: 'release_manager' }, { project: 'shop', version: '1.5.0' }), 'actor.roles', /an array/)
  await rejectsAt(() => manager.plan(42, { project: 'shop', version: '1.5.0' }), 'actor')
  await rejectsAt(() => manager.recordEvidence('shop-1.4.0', RITA, 'coverage', '0.9', 'ci'), 'value', /finite number, got string/)
  await rejectsAt(() => manager.recordEvidence('shop-1.4.0', RITA, 'coverage', NaN, 'ci'), 'value')
  await rejectsAt(() => manager.approve(null, RITA, 'scope'), 'release')
  await rejectsAt(() => manager.schedule('shop-1.4.0', RITA, 'prod', 12, new Date()), 'start', /RFC 3339/)
  await rejectsAt(() => manager.resolve('shop-1.4.0', RITA, 'deploy:prod', { done: 'yes', reason: 'x' }), 'options.done', /boolean/)
  await rejectsAt(() => manager.list({ limit: -1 }), 'query.limit')
  await rejectsAt(() => manager.status(['shop-1.4.0']), 'release', /got an array/)
  // `.catch()` sees it.
  const caught = await manager.deploy(1, 'prod').catch((e) => e)
  assert.ok(caught instanceof sw.ShipwardenError)
})

test('unknown option keys are refused naming the valid keys (targtes, …)', async () => {
  await rejectsAt(
    () => sw.ReleaseManager.open(null, { targtes: { prod: [] } }),
    'options.targtes',
    /did you mean `targets`\?.*valid keys: baseDir, clock, targets/,
  )
  // A port's misspelt method is named when the manager opens, not when the engine first calls it.
  class Host {
    deploy() {}
    rollbak() {}
  }
  await rejectsAt(() => sw.ReleaseManager.open(null, { targets: { prod: [new Host()] } }), 'options.targets.prod[0]', /Host cannot serve as a deploy-target: it has no rollback\(\) \(`rollbak`: did you mean `rollback`\?\)/)
  await rejectsAt(() => sw.ReleaseManager.open(null, { notifiers: [{ name: 'chat' }] }), 'options.notifiers[0]', /chat cannot serve as a notifier: it has no send\(\)/)
  await rejectsAt(() => sw.ReleaseManager.open(null, { targets: { prod: 'web-1' } }), 'options.targets.prod', /got string/)
  const manager = await planned()
  await rejectsAt(() => manager.list({ projcet: 'shop' }), 'query.projcet', /did you mean `project`/)
  // A stage nobody declares would match nothing, silently.
  await rejectsAt(() => manager.list({ stage: 'relased' }), 'query.stage', /did you mean `released`\?.*planned, scope_approved/)
  assert.deepEqual(manager.stages(), Object.values(sw.Stage))
  await rejectsAt(() => manager.approve('shop-1.4.0', RITA, 'scope', { rol: 'product_owner' }), 'options.rol', /valid keys: role, channel, comment/)
  await rejectsAt(() => manager.plan(RITA, { project: 'shop', version: '1.5.0', scopes: ['SHOP-1'] }), 'plan.scopes', /did you mean `scope`/)
  await rejectsAt(() => manager.recordEvidence('shop-1.4.0', RITA, 'coverage', 0.9, 'ci', { env: 'prod' }), 'options.env', /valid keys: environment, target/)
  await rejectsAt(() => manager.reportStep('shop-1.4.0', RITA, 'integration_tests', { okay: true }), 'options.okay')
  await rejectsAt(() => manager.verifyAudit('shop-1.4.0', { hed: 'x' }), 'options.hed', /did you mean `head`/)
  await rejectsAt(() => manager.plan({ user: 'rita', roles: [], role: 'x' }, { project: 'shop', version: '1.5.0' }), 'actor.role', /did you mean `roles`/)
  assert.throws(() => sw.parseCommit('feat: x', { bdy: '' }), { name: 'InvalidInputError', path: 'options.bdy' })
})

test('an unknown gate is refused with the valid names, and 93 for a ratio gate asks "did you mean 0.93?" (R-7g)', async () => {
  const manager = await planned()
  await assert.rejects(manager.recordEvidence('shop-1.4.0', RITA, 'coverag', 0.93, 'ci'), (e) => {
    assert.ok(e instanceof sw.ShipwardenError)
    assert.match(e.message, /coverage/)
    return true
  })
  await assert.rejects(manager.recordEvidence('shop-1.4.0', RITA, 'coverage', 93, 'ci'), /did you mean 0\.93\?/)
})

test('an unknown listener kind or a listener that is not a function is an InvalidInputError', async () => {
  const manager = await planned()
  assert.throws(() => manager.on('events', () => {}), { name: 'InvalidInputError', path: 'kind' })
  assert.throws(() => manager.on('event', 'not a function'), { name: 'InvalidInputError', path: 'listener' })
})
