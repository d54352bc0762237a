'use strict'
// Exactly once under a real crash (#18, R-9d): the process driving a command
// deployment is SIGKILLed mid-deploy; its deploy dies with it, and the release
// is driven on by a new process, a step in doubt resolved from the target's log.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const sw = require('..')
const { RITA, SATURDAY, Target, drive } = require('./helpers.cjs')

const RELEASE = 'shop-1.0.0'
const FIRST = 'deploy:staging:staging-1#1'

// The deployment's work ends at END; the script then tidies up for a second,
// so a driver killed after END has not recorded the outcome yet. The target
// itself notices an overlap: a run that starts while another run's process
// still lives (a lock folder naming its pid) says OVERLAP.
const deployScript = (dir) => `L=${dir}/staging-1.lock
LOG=${dir}/staging-1.log
if ! mkdir "$L" 2>/dev/null; then
  p=$(cat "$L/pid" 2>/dev/null)
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo OVERLAP "$SHIPWARDEN_KEY" $$ >> "$LOG"; fi
fi
echo $$ > "$L/pid"
echo START "$SHIPWARDEN_KEY" $$ >> "$LOG"
sleep 1.5
echo END "$SHIPWARDEN_KEY" $$ >> "$LOG"
sleep 1
rm -rf "$L"
`

const statusScript = (dir) => `grep -q "^END $1 " ${dir}/staging-1.log 2>/dev/null\n`

const config = (dir, withStatus) => `
[project]
name = "shop"
ticket_prefix = "SHOP"

[engine]
lease_wait = "1s"
lease_ttl = "5s"

[users.rita]
roles = ["release_manager"]
[users.dana]
roles = ["deployment_engineer"]

[build]
command = ["sh", "-c", "mkdir -p dist && echo shop $SHIPWARDEN_VERSION > dist/shop-$SHIPWARDEN_VERSION.txt"]
artifacts = { "shop.txt" = "dist/shop-{version}.txt" }

[[environments.staging.targets]]
name = "staging-1"
deploy = ["sh", "${dir}/deploy.sh"]
rollback = ["sh", "-c", "echo staging-1 rolled back"]
${withStatus ? `status = ["sh", "${dir}/status.sh", "{key}"]` : ''}

[policy.retry]
initial_backoff = "10ms"
max_backoff = "20ms"

[policy.calendar]
blackouts = []
`

/** The target's log: [START|END|OVERLAP, deployment key, pid]. */
function targetLog(file) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((w) => w.length === 3)
    .map(([what, key, pid]) => [what, key, Number(pid)])
}

/** Whether `pid` runs (a zombie, dead but not yet reaped, does not). */
function alive(pid) {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')
  } catch {
    return false
  }
}

function worker(dir) {
  const child = spawn(process.execPath, [path.join(__dirname, 'crash_worker.cjs'), dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (err += d))
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out, err })))
  return { child, exited }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

for (const [withStatus, killOn, name] of [
  [false, 'START', 'killed mid-deploy, resolved failed by a person'],
  [false, 'END', 'killed after its work, resolved done by a person'],
  [true, 'END', 'killed after its work, settled by the status command'],
]) {
  test(`a driver ${name}: no orphan, no deployment runs twice (R-9d)`, { timeout: 60000 }, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-crash-'))
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
    const log = path.join(dir, 'staging-1.log')
    fs.writeFileSync(path.join(dir, 'deploy.sh'), deployScript(dir))
    fs.writeFileSync(path.join(dir, 'status.sh'), statusScript(dir))
    fs.writeFileSync(path.join(dir, 'shipwarden.toml'), config(dir, withStatus))

    const driver = worker(dir)
    const deadline = Date.now() + 15000
    while (!targetLog(log).some(([what]) => what === killOn)) {
      assert.equal(driver.child.exitCode, null, 'the driver ended before the deployment')
      assert.ok(Date.now() < deadline, `the deployment never wrote ${killOn}`)
      await sleep(20)
    }
    driver.child.kill('SIGKILL')
    const killed = await driver.exited
    assert.equal(killed.signal, 'SIGKILL', killed.err)
    const atKill = targetLog(log)

    // The driver's children die with it: within a second no deploy it started runs on.
    await sleep(800)
    const started = targetLog(log).filter(([what]) => what === 'START').map(([, , pid]) => pid)
    assert.ok(started.length > 0)
    assert.deepEqual(started.filter(alive), [], 'orphans of the killed driver')
    assert.deepEqual(targetLog(log), atKill, 'the deployment went on after its driver died')

    // A new process drives on, resolving a step in doubt as an operator would (R-9d).
    const resumed = await worker(dir).exited
    assert.equal(resumed.code, 0, resumed.err)
    const lines = resumed.out.trim().split('\n')
    assert.equal(lines.at(-1), 'staging_deployed', resumed.out)
    const resolved = lines.filter((l) => l.startsWith('resolved ')).map((l) => l.split(' ').slice(1))
    const workDone = killOn === 'END'
    assert.deepEqual(resolved, withStatus ? [] : [[FIRST, workDone ? 'done' : 'failed']], resumed.out)

    const entries = targetLog(log)
    assert.deepEqual(entries.filter(([what]) => what === 'OVERLAP'), [])
    const starts = entries.filter(([what]) => what === 'START').map(([, key]) => key)
    assert.equal(new Set(starts).size, starts.length, `a deployment key ran twice: ${starts}`)
    const ends = entries.filter(([what]) => what === 'END').map(([, key]) => key)
    if (workDone) {
      assert.deepEqual(starts, [`${RELEASE}:${FIRST}`])
      assert.deepEqual(ends, starts)
    } else {
      // Resolved as failed: the rerun is a new attempt under a new key, and it ended.
      assert.equal(starts.length, 2)
      assert.deepEqual(ends, [starts[1]])
    }

    const manager = await sw.ReleaseManager.open(path.join(dir, 'shipwarden.toml'))
    const { release } = await manager.status(RELEASE)
    assert.equal(release.stage, sw.Stage.STAGING_DEPLOYED)
    assert.deepEqual(release.inDoubt, [])
    const step = release.steps.find((s) => s.key === FIRST)
    assert.equal(step.ok, workDone)
    assert.equal(step.inDoubt !== undefined && step.inDoubt !== null, !withStatus, String(step.inDoubt))
    // The audit trail is verified as it is read (R-9d), the step found in doubt among its events when it was.
    const history = await manager.history(RELEASE)
    assert.ok(history.every((e, i) => i === 0 || e.prevHash === history[i - 1].hash))
    assert.equal(history.some((e) => e.kind === 'step_in_doubt'), !withStatus)
  })
}

test('resolve refuses a step that is not in doubt, naming R-9d', async () => {
  const manager = await sw.ReleaseManager.open(null, { clock: SATURDAY, targets: { staging: [new Target('staging-1')] } })
  await manager.plan(RITA, { project: 'shop', version: '1.4.0' })
  const dana = { user: 'dana', roles: ['deployment_engineer'] }
  await assert.rejects(manager.resolve('shop-1.4.0', dana, 'deploy:staging:nope#1', { done: true, reason: 'checked' }), (error) => {
    assert.ok(error instanceof sw.RefusedError)
    assert.equal(error.rule, 'R-9d')
    assert.match(error.message, /R-9d.*no step with key `deploy:staging:nope#1` was started/s)
    return true
  })
  const waiting = await drive(manager, 'shop-1.4.0', ['qa_signoff'])
  assert.equal(waiting.stage, sw.Stage.STAGING_DEPLOYED)
  const before = (await manager.status('shop-1.4.0')).release
  assert.deepEqual(before.inDoubt, [])
  assert.ok(before.steps.every((s) => s.inDoubt === undefined || s.inDoubt === null))
  await assert.rejects(manager.resolve('shop-1.4.0', dana, FIRST, { done: false, reason: 'checked' }), (error) => {
    assert.equal(error.code, 'REFUSED')
    assert.deepEqual(error.unmet.map((u) => u.rule), ['R-9d'])
    assert.match(error.message, /already finished/)
    return true
  })
  assert.deepEqual((await manager.status('shop-1.4.0')).release, before, 'nothing was recorded')
  // A release never planned is refused too (R-3), not a crash.
  await assert.rejects(manager.resolve('shop-9.9.9', dana, FIRST, { done: true, reason: 'checked' }), { code: 'REFUSED', rule: 'R-3' })
})
