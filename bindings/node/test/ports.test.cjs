'use strict'
// Ports written in JavaScript, fan-out, errors, and live events.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const sw = require('..')
const { RITA, SATURDAY, Target, Inbox, hostProbe, smoke, drive } = require('./helpers.cjs')

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

class AsyncTarget {
  constructor(name, gauge) {
    this.name = name
    this.gauge = gauge
    this.deployed = []
  }
  async deploy(request, log) {
    this.gauge.now++
    this.gauge.max = Math.max(this.gauge.max, this.gauge.now)
    log.line(`${this.name}: pulling ${request.version}`)
    await sleep(10)
    log.line(`${this.name}: running ${request.version}`)
    this.gauge.now--
    this.deployed.push(request.version)
    return `${this.name} runs ${request.version}`
  }
  async status() {
    return null
  }
  async rollback() {
    return 'back'
  }
}

const others = () => ({ staging: [new Target('staging-1')], test: [new Target('test-1')] })

test('async JS targets and notifier; `this` works; logs land in the step', async () => {
  const gauge = { now: 0, max: 0 }
  const web = [0, 1, 2].map((i) => new AsyncTarget(`web-${i}`, gauge))
  const inbox = new Inbox()
  const manager = await sw.ReleaseManager.open(null, {
    clock: SATURDAY, targets: { ...others(), prod: web }, notifiers: [inbox], checks: { prod: hostProbe }, smoke: { prod: smoke() },
  })
  await manager.plan(RITA, { project: 'shop', version: '2.0.0' })
  const outcome = await drive(manager, 'shop-2.0.0')
  assert.equal(outcome.stage, 'closed')
  assert.ok(web.every((t) => t.deployed[0] === '2.0.0'))
  assert.ok(gauge.max > 1, 'targets of one environment deploy concurrently')
  const steps = (await manager.status('shop-2.0.0')).release.steps.filter((s) => s.target === 'web-1')
  assert.deepEqual(steps.map((s) => s.log), [['web-1: pulling 2.0.0', 'web-1: running 2.0.0']])
})

test('fan-out to 100 JS targets', async () => {
  const gauge = { now: 0, max: 0 }
  const fleet = Array.from({ length: 100 }, (_, i) => new AsyncTarget(`web-${String(i).padStart(3, '0')}`, gauge))
  const manager = await sw.ReleaseManager.open(null, {
    clock: SATURDAY, targets: { ...others(), prod: fleet }, checks: { prod: hostProbe }, smoke: { prod: smoke() },
  })
  await manager.plan(RITA, { project: 'shop', version: '2.0.0' })
  const outcome = await drive(manager, 'shop-2.0.0')
  assert.equal(outcome.stage, 'closed')
  assert.ok(fleet.every((t) => t.deployed.length === 1))
  assert.ok(gauge.max >= 10, `only ${gauge.max} at once`)
  const release = (await manager.status('shop-2.0.0')).release
  assert.equal(release.steps.filter((s) => s.step === 'deploy' && s.environment === 'prod' && s.target).length, 100)
})

test('a throw, a rejection or a bad value in a port is a port error, never a crash', async () => {
  let calls = 0
  const flaky = {
    name: 'staging-1',
    deploy() {
      calls++
      if (calls <= 2) throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:22'), { code: 'ECONNREFUSED' })
      return 'ok'
    },
    rollback: () => 'back',
  }
  let manager = await sw.ReleaseManager.open(null, { clock: SATURDAY, targets: { staging: [flaky] } })
  await manager.plan(RITA, { project: 'shop', version: '1.0.0' })
  await drive(manager, 'shop-1.0.0')
  assert.equal(calls, 3, 'retried while the error was retryable')

  const broken = {
    name: 'staging-1',
    async deploy(request, log) {
      log.stderr('disk full')
      throw new RangeError('no space left on /srv')
    },
    rollback: () => 'back',
  }
  manager = await sw.ReleaseManager.open(null, { clock: SATURDAY, targets: { staging: [broken] } })
  await manager.plan(RITA, { project: 'shop', version: '1.0.0' })
  const waiting = await drive(manager, 'shop-1.0.0', ['deploy'])
  assert.equal(waiting.stage, 'built')
  const [step] = (await manager.status('shop-1.0.0')).release.steps.filter((s) => s.target === 'staging-1')
  assert.equal(step.ok, false)
  assert.deepEqual(step.log, ['disk full'])
  assert.match(step.detail, /deploy-target staging-1 deploy: invalid: RangeError: no space left on \/srv/)

  const tracker = {
    get: () => Promise.reject(Object.assign(new Error('token expired'), { name: 'AuthError' })),
    openBugs: () => Promise.reject(Object.assign(new Error('token expired'), { name: 'AuthError' })),
    comment() {},
    transition() {},
    createReleaseTicket: () => 'SHOP-1',
  }
  manager = await sw.ReleaseManager.open(null, { clock: SATURDAY, targets: { staging: [new Target('staging-1')] }, ticketing: tracker })
  await manager.plan(RITA, { project: 'shop', version: '1.0.0', scope: ['SHOP-1'] })
  await assert.rejects(drive(manager, 'shop-1.0.0'), (e) => {
    assert.ok(e instanceof sw.AdapterError)
    assert.equal(e.code, 'ADAPTER')
    assert.equal(e.port, 'ticketing Object')
    assert.equal(e.operation, 'openBugs')
    assert.equal(e.retryable, false)
    assert.match(e.message, /AuthError: token expired/)
    return true
  })
})

test('ticketing, artifacts and backups in JS', async () => {
  let bug = { key: 'SHOP-7', summary: 'Checkout crashes', status: 'Open', kind: 'Bug', severity: 'critical' }
  const tracker = {
    get: async () => bug,
    openBugs: async (scope, severities) => (bug.status === 'Open' && severities.includes(bug.severity) && scope.includes(bug.key) ? [bug] : []),
    comment() {},
    transition() {},
    createReleaseTicket: () => 'SHOP-100',
  }
  const items = new Map()
  const shelf = {
    put(name, version, file) {
      const data = fs.readFileSync(file)
      items.set(`${name}@${version}`, data)
      return { name, version, sha256: crypto.createHash('sha256').update(data).digest('hex'), size: data.length }
    },
    get: (a) => items.get(`${a.name}@${a.version}`),
    exists: (a) => items.has(`${a.name}@${a.version}`),
    versions: (name) => [...items.keys()].filter((k) => k.startsWith(`${name}@`)).map((k) => k.split('@')[1]),
  }
  const vault = {
    taken: [],
    restored: [],
    async backup(environment, key) {
      this.taken.push(key)
      return { id: `b-${this.taken.length}`, environment, size: 42 }
    },
    verify: async (b) => `${b.id} restored into scratch`,
    async restore(b) {
      this.restored.push(b.id)
      return `${b.id} restored`
    },
  }
  const manager = await sw.ReleaseManager.open(null, {
    clock: SATURDAY, targets: { ...others(), prod: [new Target('prod-1')] }, checks: { prod: hostProbe },
    smoke: { prod: smoke({ status: 503 }) }, ticketing: tracker, artifacts: shelf, backup: vault,
  })
  await manager.plan(RITA, { project: 'shop', version: '1.4.0', scope: ['SHOP-7'] })
  const waiting = await drive(manager, 'shop-1.4.0', ['critical_bugs'])
  assert.equal(waiting.stage, 'staging_deployed')
  assert.ok(waiting.refusal.rules.includes('R-7b'))
  assert.deepEqual([...items.keys()], ['app.tar.gz@1.4.0'])
  bug = { ...bug, status: 'Done' }
  const outcome = await drive(manager, 'shop-1.4.0', ['critical_bugs'])
  assert.equal(outcome.outcome, 'rolled_back')
  assert.deepEqual(vault.restored, ['b-1'])
})

test('a UI can watch a release live: audit events and log lines', async () => {
  const manager = await sw.ReleaseManager.open(null, { clock: SATURDAY, targets: { staging: [new Target('staging-1')] } })
  const events = []
  const lines = []
  const onEvent = (e) => events.push(e)
  manager.on('event', onEvent).on('log', (l) => lines.push(l))
  const iterator = manager.events()
  await manager.plan(RITA, { project: 'shop', version: '1.0.0' })
  const first = await iterator.next()
  assert.equal(first.value.kind, 'planned')
  await drive(manager, 'shop-1.0.0')
  await sleep(50)
  const history = await manager.history('shop-1.0.0')
  assert.deepEqual(events.map((e) => e.sequence), history.map((e) => e.sequence))
  assert.deepEqual(events.map((e) => e.hash), history.map((e) => e.hash))
  assert.ok(lines.some((l) => l.release === 'shop-1.0.0' && l.text === 'staging-1 installs 1.0.0' && l.stream === 'stdout'))
  await iterator.return()
  manager.off('event', onEvent)
  const before = events.length
  await manager.plan(RITA, { project: 'shop', version: '1.1.0' })
  await sleep(50)
  assert.equal(events.length, before, 'no events after off()')
})

test('a listener that throws does not stop the release', async () => {
  const manager = await sw.ReleaseManager.open(null, { clock: SATURDAY, targets: { staging: [new Target('staging-1')] } })
  const seen = []
  manager.on('event', () => {
    throw new Error('a buggy UI')
  })
  manager.on('event', (e) => seen.push(e.kind))
  const errors = []
  const original = console.error
  console.error = (...args) => errors.push(args.join(' '))
  try {
    await manager.plan(RITA, { project: 'shop', version: '1.0.0' })
    const outcome = await drive(manager, 'shop-1.0.0')
    assert.notEqual(outcome.stage, 'planned')
    await sleep(50)
  } finally {
    console.error = original
  }
  assert.ok(seen.includes('planned'))
  assert.ok(errors.some((e) => e.includes('a buggy UI')))
})

test('a waiting events() iterator keeps the process alive until its event comes', () => {
  const script = `
    const sw = require(${JSON.stringify(path.join(__dirname, '..'))})
    ;(async () => {
      const m = await sw.ReleaseManager.open(null, { clock: '${SATURDAY}' })
      const events = m.events()
      setImmediate(() => m.plan({ user: 'rita', roles: ['release_manager'] }, { project: 'p', version: '1.0.0' }))
      const first = await events.next()
      console.log(first.value.kind)
      await events.return()
    })()`
  for (let i = 0; i < 5; i++) {
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 })
    assert.equal(child.status, 0, child.stderr)
    assert.equal(child.stdout.trim(), 'planned')
  }
})

test('ports and subscriptions do not keep the process alive', () => {
  const script = `
    const sw = require(${JSON.stringify(path.join(__dirname, '..'))})
    ;(async () => {
      const m = await sw.ReleaseManager.open(null, { clock: '${SATURDAY}', targets: { staging: [{ name: 't', deploy: async () => 'ok', rollback: () => 'ok' }] } })
      m.on('event', () => {}).on('log', () => {})
      await m.plan({ user: 'rita', roles: ['release_manager'] }, { project: 'p', version: '1.0.0' })
      console.log('done')
    })()`
  const started = Date.now()
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 })
  assert.equal(child.status, 0, child.stderr)
  assert.equal(child.stdout.trim(), 'done')
  assert.ok(Date.now() - started < 10000, 'the process ended by itself')
})

test('ESM and CommonJS entry points export the same objects', async () => {
  const esm = await import('shipwarden')
  assert.equal(esm.ReleaseManager, sw.ReleaseManager)
  assert.equal(esm.RefusedError, sw.RefusedError)
  assert.equal(esm.Stage.CLOSED, 'closed')
})
