// The README's Node tour, then on to staging, against the packed tarballs
// installed into a clean npm project (`shipwarden` and its platform package).
// scripts/test runs it there with cargo off PATH (#20).
import assert from 'node:assert/strict'
import { ReleaseManager, RefusedError, Stage } from 'shipwarden'

const deployed = []
const host = {                                  // the README's target
  name: 'web-1',
  async deploy(request, log) { log.line(`installing ${request.version}`); deployed.push(request.version); return `web-1 runs ${request.version}` },
  rollback() { return 'web-1 back on the previous release' },
}

const manager = await ReleaseManager.open(null, { clock: '2026-11-28T10:00:00Z', targets: { staging: [host] } })
const kinds = []
manager.on('event', (e) => kinds.push(e.kind))
const rita = { user: 'rita', roles: ['release_manager'] }
await manager.plan(rita, { project: 'shop', version: '1.4.0', scope: ['SHOP-12'] })
await assert.rejects(manager.advance('shop-1.4.0', rita, Stage.SCOPE_APPROVED), (e) => e instanceof RefusedError && e.rule === 'R-2b')
await manager.approve('shop-1.4.0', { user: 'paul', roles: ['product_owner'] }, 'scope')
let outcome = await manager.run('shop-1.4.0')
assert.equal(outcome.outcome, 'waiting')
assert.equal(outcome.stage, Stage.SCOPE_APPROVED)

await manager.recordEvidence('shop-1.4.0', { user: 'ci', roles: [] }, 'untracked_commits', 0, 'git log v1.3.0..HEAD')
await manager.reportStep('shop-1.4.0', rita, 'tag', { detail: 'git tag -a v1.4.0' })
outcome = await manager.run('shop-1.4.0', Stage.STAGING_DEPLOYED)
assert.equal(outcome.stage, Stage.STAGING_DEPLOYED)
assert.deepEqual(deployed, ['1.4.0'])
assert.ok(kinds.length > 0, 'no live events')
console.log(`npm package: shop-1.4.0 ${outcome.outcome} at ${outcome.stage}, deployed by a JS target, ${kinds.length} live events`)
