// A release end to end with a deploy target written in TypeScript, watched
// live through the manager's events, as a release UI would.
//
// Run (after `npm run build` in bindings/node): see bindings/node/test/examples.test.cjs,
// which compiles the examples with tsc and runs them.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ReleaseManager, RefusedError, Stage } from 'shipwarden'
import type { AuditEvent, DeployRequest, DeployTarget, Log, LogEvent, Notice, Notifier, RollbackRequest } from 'shipwarden'

/** A host is a folder: `current` holds the version it runs. */
class FolderHost implements DeployTarget {
  readonly dir: string
  constructor(readonly name: string, root: string) {
    this.dir = path.join(root, name)
  }

  async deploy(request: DeployRequest, log: Log): Promise<string> {
    fs.mkdirSync(this.dir, { recursive: true })
    const current = path.join(this.dir, 'current')
    if (fs.existsSync(current)) fs.copyFileSync(current, path.join(this.dir, 'previous'))
    fs.writeFileSync(current, request.version)
    fs.writeFileSync(path.join(this.dir, request.key.replaceAll('/', '_')), 'done')
    log.line(`${this.name} now runs ${request.version}`)
    return `${this.name} runs ${request.version}`
  }

  status(key: string): string | null {
    return fs.existsSync(path.join(this.dir, key.replaceAll('/', '_'))) ? `${this.name} did ${key}` : null
  }

  rollback(_request: RollbackRequest, log: Log): string {
    const previous = path.join(this.dir, 'previous')
    const version = fs.existsSync(previous) ? fs.readFileSync(previous, 'utf8') : ''
    fs.writeFileSync(path.join(this.dir, 'current'), version)
    log.line(`${this.name} back on ${version || 'nothing'}`)
    return `${this.name} back on ${version || 'nothing'}`
  }
}

const printer: Notifier = {
  name: 'stdout',
  send(notice: Notice): void {
    console.log(`  notice to ${notice.audience.join(', ')}: ${notice.subject}`)
  },
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shipwarden-example-'))
  const envs = ['staging', 'test', 'prod'] as const
  const hosts = Object.fromEntries(envs.map((e) => [e, [1, 2].map((i) => new FolderHost(`${e}-${i}`, root))]))
  const manager = await ReleaseManager.open(null, {
    clock: '2026-11-28T09:30:00Z', // a Saturday morning: outside the Mon-Fri blackout (R-6b)
    targets: hosts,
    notifiers: [printer],
    checks: { prod: { name: 'host', check: () => ({ cpu: 22, memory: 41, disk_free: 63, tls_days_left: 75, db_connectivity: 1, network: 1 }) } },
    smoke: { prod: { name: 'GET /health', check: async () => [{ gate: 'response_time', value: 64 }] } },
  })
  const seen: AuditEvent[] = []
  const lines: LogEvent[] = []
  manager.on('event', (e) => seen.push(e)).on('log', (l) => lines.push(l))

  const rita = { user: 'rita', roles: ['release_manager'] }
  const paul = { user: 'paul', roles: ['product_owner'] }
  const quinn = { user: 'quinn', roles: ['qa_lead'] }
  const ci = { user: 'ci', roles: [] }
  const release = (await manager.plan(rita, { project: 'shop', version: '1.4.0', scope: ['SHOP-12'] })).id ?? ''
  try {
    await manager.advance(release, rita, Stage.SCOPE_APPROVED)
  } catch (error) {
    if (!(error instanceof RefusedError)) throw error
    console.log(`refused by ${error.rule} in ${error.stage}: ${error.unmet.map((u) => u.message).join('; ')}`)
  }

  for (;;) {
    const outcome = await manager.run(release)
    if (outcome.outcome !== 'waiting') {
      console.log(`${release}: ${outcome.outcome} in ${outcome.stage}`)
      if (outcome.stage !== Stage.CLOSED) throw new Error('the release should have closed')
      break
    }
    console.log(`waiting in ${outcome.stage}: ${outcome.refusal?.rules.join(', ')}`)
    switch (outcome.stage) {
      case Stage.PLANNED:
        await manager.approve(release, paul, 'scope', { comment: 'scope ok' })
        break
      case Stage.SCOPE_APPROVED:
        await manager.recordEvidence(release, ci, 'untracked_commits', 0, 'git log v1.3.0..HEAD')
        await manager.reportStep(release, rita, 'tag', { detail: 'git tag -a v1.4.0' })
        break
      case Stage.STAGING_DEPLOYED:
        await manager.recordEvidence(release, ci, 'coverage', 0.92, 'lcov.info')
        await manager.recordEvidence(release, ci, 'p95_latency', 143, 'results.jtl')
        await manager.recordEvidence(release, ci, 'critical_bugs', 0, 'jira')
        await manager.approve(release, quinn, 'qa_signoff', { channel: 'email' })
        break
      case Stage.QA_VERIFIED:
        await manager.reportStep(release, quinn, 'integration_tests', { environment: 'staging', detail: '412 passed' })
        break
      case Stage.INTEGRATION_TESTED:
        await manager.reportStep(release, paul, 'demo', { environment: 'test' })
        break
      case Stage.TEST_DEPLOYED:
        await manager.recordEvidence(release, paul, 'docs_reviewed', 1, 'wiki/shop/1.4.0')
        await manager.approve(release, paul, 'acceptance')
        break
      default:
        throw new Error(`nobody here knows what to do in ${outcome.stage}`)
    }
  }
  for (const list of Object.values(hosts)) {
    for (const host of list) {
      if (fs.readFileSync(path.join(host.dir, 'current'), 'utf8') !== '1.4.0') throw new Error(`${host.name} is not on 1.4.0`)
    }
  }
  console.log(`watched ${seen.length} audit events and ${lines.length} log lines live`)
  fs.rmSync(root, { recursive: true, force: true })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
