'use strict'
// Plays the people of the procedure, as the Rust and Python drivers do.

const sw = require('..')

const SATURDAY = '2026-11-28T10:00:00Z'
const PASSING = {
  coverage: 0.95, critical_bugs: 0, p95_latency: 120, docs_reviewed: 1, untracked_commits: 0,
  cpu: 20, memory: 30, disk_free: 60, tls_days_left: 80, db_connectivity: 1, network: 1, response_time: 90,
}
const HOST = { cpu: 20, memory: 30, disk_free: 60, tls_days_left: 80, db_connectivity: 1, network: 1 }
const RITA = { user: 'rita', roles: ['release_manager'] }
const person = (role) => ({ user: `${role}-person`, roles: [role] })

class Target {
  constructor(name) {
    this.name = name
    this.deployed = []
    this.rolledBack = []
  }
  deploy(request, log) {
    this.deployed.push(request.version) // `this` is the target
    log.line(`${this.name} installs ${request.version}`)
    return `${this.name} runs ${request.version}`
  }
  status() {
    return null
  }
  rollback(request, log) {
    this.rolledBack.push(request.key)
    log.stderr(`${this.name} goes back`)
    return `${this.name} rolled back`
  }
}

class Inbox {
  constructor() {
    this.name = 'inbox'
    this.notices = []
  }
  async send(notice) {
    this.notices.push(notice)
  }
}

const hostProbe = { name: 'host', check: () => ({ ...HOST }) }

function smoke({ millis = 90, status = 200 } = {}) {
  return {
    name: 'GET /health',
    check() {
      if (status !== 200) throw new Error(`GET /health answered ${status}`)
      return [{ gate: 'response_time', value: millis, source: 'https://shop.test/health' }]
    },
  }
}

function environments() {
  return { staging: [new Target('staging-1')], test: [new Target('test-1')], prod: [new Target('prod-1'), new Target('prod-2')] }
}

/** Meets one unmet requirement of `release` (an approval, a gate, a step) unless skipped; false when nobody here can. */
async function supply(manager, release, unmet, skip) {
  try {
    if (unmet.requirement === 'approval' && !skip.has(unmet.approval)) {
      const role = unmet.roles[0]
      await manager.approve(release, person(role), unmet.approval, { role, comment: 'ok' })
      return true
    }
    if (unmet.requirement === 'gate' && unmet.gate && !skip.has(unmet.gate)) {
      await manager.recordEvidence(release, person('qa_lead'), unmet.gate, PASSING[unmet.gate] ?? 1, 'node --test', { environment: unmet.environment })
      return true
    }
    if (unmet.requirement === 'step' && unmet.step && !skip.has(unmet.step)) {
      await manager.reportStep(release, person('qa_lead'), unmet.step, { environment: unmet.environment, detail: 'done' })
      return true
    }
  } catch (error) {
    if (!(error instanceof sw.RefusedError)) throw error
    return true
  }
  return false
}

/** Runs the release until it is final, rolled back, or waits for something skipped. */
async function drive(manager, release, skip = []) {
  const skipped = new Set(skip)
  for (let round = 0; round < 100; round++) {
    const outcome = await manager.run(release)
    if (outcome.outcome !== 'waiting') return outcome
    let supplied = false
    for (const unmet of outcome.refusal.unmet) supplied = (await supply(manager, release, unmet, skipped)) || supplied
    if (!supplied) return outcome
  }
  throw new Error('the release did not finish in 100 rounds')
}

async function openManager(targets, inbox, smokeProbe = smoke()) {
  return sw.ReleaseManager.open(null, {
    clock: SATURDAY,
    targets,
    notifiers: [inbox],
    checks: { prod: hostProbe },
    smoke: { prod: smokeProbe },
  })
}

module.exports = { SATURDAY, RITA, person, Target, Inbox, hostProbe, smoke, environments, supply, drive, openManager }
