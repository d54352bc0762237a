// 50 async deploy targets in one environment, deployed concurrently, with the
// engine's audit events read through an async iterator.

import { ReleaseManager, Stage } from 'shipwarden'
import type { DeployRequest, DeployTarget, Log } from 'shipwarden'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

class Node implements DeployTarget {
  version: string | null = null
  constructor(readonly name: string) {}

  async deploy(request: DeployRequest, log: Log): Promise<string> {
    await sleep(20) // talking to the node's agent
    this.version = request.version
    log.line(`${this.name} ready`)
    return `${this.name} runs ${request.version}`
  }

  async rollback(): Promise<string> {
    this.version = null
    return `${this.name} rolled back`
  }
}

async function main(): Promise<void> {
  const fleet = Array.from({ length: 50 }, (_, i) => new Node(`node-${String(i).padStart(2, '0')}`))
  const manager = await ReleaseManager.open(null, { clock: '2026-11-28T10:00:00Z', targets: { staging: fleet } })
  const rita = { user: 'rita', roles: ['release_manager'] }
  const kinds: string[] = []
  const watch = (async () => {
    for await (const event of manager.events()) {
      kinds.push(event.kind)
      if (event.kind === 'advanced' && event.event.to === Stage.STAGING_DEPLOYED) break
    }
  })()

  await manager.plan(rita, { project: 'fleet', version: '2.1.0' })
  await manager.approve('fleet-2.1.0', { user: 'paul', roles: ['product_owner'] }, 'scope')
  await manager.recordEvidence('fleet-2.1.0', { user: 'ci', roles: [] }, 'untracked_commits', 0, 'git log')
  await manager.reportStep('fleet-2.1.0', rita, 'tag', { detail: 'v2.1.0' })
  const started = Date.now()
  const outcome = await manager.run('fleet-2.1.0', Stage.STAGING_DEPLOYED)
  await watch
  console.log(`${outcome.outcome}: ${outcome.stage} in ${Date.now() - started} ms; ${kinds.length} events watched`)
  if (!fleet.every((node) => node.version === '2.1.0')) throw new Error('a node missed the release')
  const status = await manager.status('fleet-2.1.0')
  for (const next of status.next) console.log(`next: ${next.stage} needs ${next.refusal?.rules.join(', ') ?? 'nothing more'}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
