'use strict'
// What the Node binding takes from the shared layer (issue #20): the default
// approval role (R-2c), the decoding of port answers, and the bench helper
// kept out of the public API.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const sw = require('..')
const { RITA, SATURDAY } = require('./helpers.cjs')

test('the default role is the first the policy accepts (R-2c)', async () => {
  const manager = await sw.ReleaseManager.open(null, { clock: SATURDAY })
  await manager.plan(RITA, { project: 'shop', version: '1.0.0' })
  const release = await manager.approve('shop-1.0.0', { user: 'paul', roles: ['qa_lead', 'product_owner'] }, 'scope')
  assert.deepEqual(release.approvals.map((a) => a.role), ['product_owner'])
})

test('a bad port answer names what was expected and what came', async () => {
  const target = { name: 'web-1', deploy: () => null, rollback: () => null, status: () => 42 }
  await assert.rejects(sw._bench.jsPort(target, 1), (e) => {
    assert.equal(e.code, 'ADAPTER')
    assert.match(e.message, /expected a string \(done\) or None\/null \(not found\), got 42/)
    return true
  })
})

test('the bench helper is not public API', () => {
  assert.equal(Object.keys(sw).includes('_bench'), false)
  assert.equal(Object.keys(sw).includes('benchJsPort'), false)
  assert.equal(typeof sw._bench.jsPort, 'function')
})
