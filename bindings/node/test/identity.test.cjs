'use strict'
// Who acted, proven, and the audit trail anchored (issue #19, R-2d, R-9d), as
// the Python suite checks: signed approvals verified against the configured
// keys, identities an embedding platform verified, checkpoints, forgery found.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const sw = require('..')
const { SATURDAY } = require('./helpers.cjs')

const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'

function hasSqlite3() {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** A SQLite project under `trust = "verified"` with paul's SSH key and a checkpoint signing key. */
async function openVerified(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-node-identity-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  process.env.SW_NODE_ANCHOR_KEY = SEED
  const key = path.join(dir, 'paul')
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'paul', '-f', key])
  const pub = fs.readFileSync(`${key}.pub`, 'utf8').trim()
  fs.writeFileSync(
    path.join(dir, 'shipwarden.toml'),
    `[project]
name = "shop"
state_dir = "state"

[users.rita]
roles = ["release_manager"]
[users.paul]
roles = ["product_owner"]
ssh_keys = ["${pub}"]

[identity]
trust = "verified"

[evidence]
signing_key_env = "SW_NODE_ANCHOR_KEY"
`,
  )
  const manager = await sw.ReleaseManager.open(path.join(dir, 'shipwarden.toml'), { clock: SATURDAY })
  await manager.plan('rita', { project: 'shop', version: '1.0.0' })
  return { manager, key, dir }
}

test('a signed approval is accepted where an unsigned one is refused (R-2d)', async (t) => {
  const { manager, key, dir } = await openVerified(t)

  await assert.rejects(manager.approve('shop-1.0.0', 'paul', 'scope'), (e) => {
    assert.ok(e instanceof sw.RefusedError)
    assert.match(e.message, /R-2d/)
    assert.ok(e.unmet.some((u) => u.rule === 'R-2d'))
    return true
  })

  const statement = await manager.approvalStatement('shop-1.0.0', 'paul', 'scope', { comment: 'ok' })
  assert.match(statement, /shop-1\.0\.0/)

  // A signature over another statement (another comment) is refused, never recorded.
  const other = await manager.approvalStatement('shop-1.0.0', 'paul', 'scope', { comment: 'not this' })
  await assert.rejects(
    manager.approve('shop-1.0.0', 'paul', 'scope', { comment: 'ok', signature: sw.signStatement(other, key), statement: other }),
    (e) => e instanceof sw.RefusedError && /R-2d/.test(e.message),
  )

  // Signed the way a person does it, with ssh-keygen.
  const file = path.join(dir, 'statement')
  fs.writeFileSync(file, statement)
  execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-n', 'shipwarden', '-f', key, file])
  const signature = fs.readFileSync(`${file}.sig`, 'utf8')
  const release = await manager.approve('shop-1.0.0', 'paul', 'scope', { comment: 'ok', signature, statement })
  const [approval] = release.approvals
  assert.equal(approval.user, 'paul')
  assert.equal(approval.proof.kind, 'ssh_signature')
  assert.match(approval.proof.fingerprint, /^SHA256:/)
  const approved = (await manager.history('shop-1.0.0')).find((e) => e.kind === 'approved')
  assert.equal(approved.event.proof.kind, 'ssh_signature')

  await assert.rejects(manager.approve('shop-1.0.0', 'paul', 'acceptance', { signature }), sw.InvalidInputError)
})

test('an identity the platform verified is recorded as such', async (t) => {
  const { manager } = await openVerified(t)
  const oidc = { kind: 'oidc', issuer: 'https://sso.example', subject: 'p-7' }
  const release = await manager.approve('shop-1.0.0', { user: 'paul', roles: ['product_owner'], proof: oidc }, 'scope')
  assert.deepEqual(release.approvals[0].proof, oidc)
  assert.deepEqual(manager.actor('paul'), { user: 'paul', roles: ['product_owner'] })
  await assert.rejects(
    manager.approve('shop-1.0.0', { user: 'paul', roles: ['product_owner'], proof: { kind: 'ssh_signature' } }, 'acceptance'),
    (e) => e instanceof sw.InvalidInputError && /signature/.test(e.message),
  )
  await assert.rejects(
    manager.approve('shop-1.0.0', { user: 'paul', roles: ['product_owner'], proof: { kind: 'password' } }, 'acceptance'),
    sw.InvalidInputError,
  )
})

test('checkpoints verify, and a forged store is found (R-9d)', async (t) => {
  const { manager, dir } = await openVerified(t)
  const paul = { user: 'paul', roles: ['product_owner'], proof: { kind: 'token', id: 'tok-1' } }
  await manager.approve('shop-1.0.0', paul, 'scope', { comment: 'ok' })

  const [checkpoint] = await manager.checkpoints('shop-1.0.0')
  assert.equal(checkpoint.sequence, 1)
  assert.equal(checkpoint.stage, sw.Stage.PLANNED)
  assert.equal(checkpoint.head.length, 64)
  assert.equal(checkpoint.publicKey.length, 64)
  const history = await manager.history('shop-1.0.0')
  assert.equal(checkpoint.head, history[0].hash)

  const report = await manager.verifyAudit('shop-1.0.0')
  assert.deepEqual([report.ok, report.events, report.checkpoints, report.anchoredAt], [true, 2, 1, 1])
  assert.equal((await manager.verifyAudit('shop-1.0.0', { head: history[1].hash })).head, history[1].hash)
  await assert.rejects(manager.verifyAudit('shop-1.0.0', { head: history[0].hash }), (e) => {
    assert.ok(e instanceof sw.IntegrityError)
    assert.equal(e.code, 'INTEGRITY')
    assert.equal(e.release, 'shop-1.0.0')
    assert.match(e.message, /continues past/)
    return true
  })

  if (!hasSqlite3()) {
    t.skip('no sqlite3 command to forge the store with')
    return
  }
  const db = path.join(dir, 'state', 'releases.db')
  const sql = (statement) => execFileSync('sqlite3', [db, statement])
  sql(`UPDATE checkpoints SET head = '${'0'.repeat(64)}' WHERE stream = 'shop-1.0.0' AND seq = 1`)
  await assert.rejects(manager.verifyAudit('shop-1.0.0'), (e) => {
    assert.ok(e instanceof sw.IntegrityError)
    assert.equal(e.sequence, 1)
    assert.match(e.message, /sequence 1/)
    assert.match(e.message, /R-9d/)
    return true
  })
  sql(`UPDATE events SET event = replace(event, '"ok"', '"fine"') WHERE stream = 'shop-1.0.0' AND seq = 2`)
  await assert.rejects(manager.verifyAudit('shop-1.0.0'), (e) => e instanceof sw.IntegrityError && e.sequence === 2)
})

test('a signed rejection verifies, and an approval signature does not stand for one (R-2c, R-2d)', async (t) => {
  const { manager, key, dir } = await openVerified(t)
  const reason = 'SHOP-12 is not ready'

  // Under `trust = "verified"` a rejection needs the proof an approval needs (R-2d).
  await assert.rejects(manager.reject('shop-1.0.0', 'paul', 'scope', reason), (e) => {
    assert.ok(e instanceof sw.RefusedError)
    assert.ok(e.unmet.some((u) => u.rule === 'R-2d'))
    return true
  })

  const statement = await manager.rejectionStatement('shop-1.0.0', 'paul', 'scope', reason)
  assert.ok(statement.startsWith('shipwarden rejection statement v1\n'), statement)
  assert.match(statement, /approval: scope/)
  assert.ok(statement.includes(JSON.stringify(reason)))

  // An approval's statement with the same fields, and its signature, prove an approval, never a rejection.
  const approval = await manager.approvalStatement('shop-1.0.0', 'paul', 'scope', { comment: reason })
  assert.ok(approval.startsWith('shipwarden approval statement v1\n'))
  const approvalSignature = sw.signStatement(approval, key)
  for (const presented of [approval, statement]) {
    await assert.rejects(manager.reject('shop-1.0.0', 'paul', 'scope', reason, { signature: approvalSignature, statement: presented }), (e) => {
      assert.ok(e instanceof sw.RefusedError, `${e.name}: ${e.message}`)
      assert.equal(e.rule, 'R-2d')
      return true
    })
  }
  // Nor does a rejection's signature prove an approval.
  await assert.rejects(
    manager.approve('shop-1.0.0', 'paul', 'scope', { comment: reason, signature: sw.signStatement(statement, key), statement }),
    (e) => e instanceof sw.RefusedError && /R-2d/.test(e.message),
  )
  assert.deepEqual((await manager.state('shop-1.0.0')).rejections, [], 'nothing refused was recorded')

  // Signed the way a person does it, with ssh-keygen.
  const file = path.join(dir, 'rejection')
  fs.writeFileSync(file, statement)
  execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-n', 'shipwarden', '-f', key, file])
  const signature = fs.readFileSync(`${file}.sig`, 'utf8')
  const release = await manager.reject('shop-1.0.0', 'paul', 'scope', reason, { signature, statement })
  assert.equal(release.rejections.length, 1)
  const [rejection] = release.rejections
  assert.deepEqual([rejection.user, rejection.comment], ['paul', reason])
  assert.equal(rejection.proof.kind, 'ssh_signature')
  const rejected = (await manager.history('shop-1.0.0')).find((e) => e.kind === 'rejected')
  assert.equal(rejected.event.proof.kind, 'ssh_signature')

  // The evidence bundle verifies offline, and lists the rejection with its signer (R-9d).
  const report = await manager.verifyEvidence(await manager.evidenceBundle('shop-1.0.0'))
  assert.equal(report.rejections.length, 1)
  const [listed] = report.rejections
  assert.deepEqual([listed.approval, listed.user, listed.role, listed.reason], ['scope', 'paul', 'product_owner', reason])
  assert.equal(listed.proof, 'ssh_signature')
  assert.equal(listed.fingerprint, rejection.proof.fingerprint)
  assert.match(listed.publicKey, /^ssh-ed25519 /)
  assert.equal(listed.sequence, rejected.sequence)
  assert.deepEqual(report.approvals, [])

  await assert.rejects(manager.actionStatement('shop-1.0.0', 'paul', 'reject', reason), { name: 'InvalidInputError', path: 'action' })
})
