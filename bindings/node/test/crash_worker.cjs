'use strict'
// Drives a release from a shipwarden.toml to the QA sign-off, as the process
// crash.test.cjs SIGKILLs mid-deployment and as the one that drives on.
//
// Usage: node crash_worker.cjs DIR
//
// DIR holds the shipwarden.toml (its staging target a command writing
// `START key pid` / `END key pid` to DIR/staging-1.log). A step in doubt is
// resolved the way an operator would: done when the target's log shows its
// END, failed otherwise (R-9d). Prints `resolved KEY done|failed` for each,
// then the stage reached. `node --test test/` runs every file here: without
// DIR it does nothing.

const fs = require('node:fs')
const path = require('node:path')

const RELEASE = 'shop-1.0.0'

async function main(dir) {
  const sw = require('..')
  const { supply } = require('./helpers.cjs')
  const log = path.join(dir, 'staging-1.log')
  const ended = (key) =>
    (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '')
      .split('\n')
      .some((line) => line.split(' ').slice(0, 2).join(' ') === `END ${RELEASE}:${key}`)
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

  const manager = await sw.ReleaseManager.open(path.join(dir, 'shipwarden.toml'))
  try {
    await manager.plan('rita', { project: 'shop', version: '1.0.0' })
  } catch (error) {
    if (!(error instanceof sw.RefusedError)) throw error // planned by the process before us
  }
  for (let round = 0; round < 80; round++) {
    if ((await manager.status(RELEASE)).release.stage === sw.Stage.STAGING_DEPLOYED) break
    let unmet
    try {
      const outcome = await manager.run(RELEASE, sw.Stage.STAGING_DEPLOYED)
      unmet = outcome.refusal?.unmet ?? []
    } catch (error) {
      if (error instanceof sw.ConflictError) {
        await sleep(500) // the killed driver's lease has not lapsed yet
        continue
      }
      if (!(error instanceof sw.RefusedError)) throw error
      unmet = error.unmet
    }
    for (const u of unmet) {
      if (u.requirement === 'step_in_doubt') {
        if (u.rule !== 'R-9d' || !u.step || !u.detail) throw new Error(`unexpected ${JSON.stringify(u)}`)
        const done = ended(u.step)
        const release = await manager.resolve(RELEASE, 'dana', u.step, { done, reason: "checked staging-1's log" })
        if (release.inDoubt.length !== 0) throw new Error(`still in doubt: ${JSON.stringify(release.inDoubt)}`)
        console.log('resolved', u.step, done ? 'done' : 'failed')
      } else {
        await supply(manager, RELEASE, u, new Set())
      }
    }
  }
  console.log((await manager.status(RELEASE)).release.stage)
}

if (process.argv[2]) {
  main(process.argv[2]).catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
