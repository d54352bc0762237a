'use strict'
// Failures are first-class (issue #20): a run that stops on a failed step says
// so with the port error; a direct deploy() whose target fails rejects.
const test = require('node:test')
const assert = require('node:assert/strict')
const sw = require('..')
const { RITA, Target, Inbox, environments, drive, openManager } = require('./helpers.cjs')

class Broken extends Target {
  deploy() {
    throw new RangeError('no space left on /srv')
  }
}

async function planned(targets) {
  const manager = await openManager(targets, new Inbox())
  await manager.plan(RITA, { project: 'shop', version: '1.0.0', scope: ['SHOP-1'] })
  return manager
}

test('a run that stops on a failed deployment is failed, with the port error', async () => {
  const manager = await planned({ ...environments(), staging: [new Broken('staging-1')] })
  const outcome = await drive(manager, 'shop-1.0.0')
  assert.equal(outcome.outcome, 'failed')
  assert.equal(outcome.stage, sw.Stage.BUILT)
  const { step, environment, target, port, operation, cause, retryable } = outcome.error
  assert.deepEqual(
    { step, environment, target, port, operation, retryable },
    { step: 'deploy', environment: 'staging', target: 'staging-1', port: 'deploy-target staging-1', operation: 'deploy', retryable: false },
  )
  assert.match(cause, /RangeError: no space left on \/srv/)
  assert.ok(outcome.refusal.unmet.length > 0, 'what it takes to go on is still there')
})

test('a direct deploy whose target fails rejects as AdapterError with the step', async () => {
  const manager = await planned({ ...environments(), staging: [new Broken('staging-1')] })
  await drive(manager, 'shop-1.0.0')
  const error = await manager.deploy('shop-1.0.0', 'staging').then(
    () => assert.fail('deploy() returned after a failed deployment'),
    (e) => e,
  )
  assert.ok(error instanceof sw.AdapterError, String(error))
  assert.equal(error.kind, 'step_failed')
  assert.equal(error.port, 'deploy-target staging-1')
  assert.equal(error.step.target, 'staging-1')
  assert.match(error.step.cause, /no space left/)
})
