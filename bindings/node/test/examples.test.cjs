'use strict'
// examples/node/*.ts type-check under --strict, compile, and run against the built addon.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const here = path.join(__dirname, '..')
const examples = path.join(here, '..', '..', 'examples', 'node')
const tsc = path.join(here, 'node_modules', 'typescript', 'bin', 'tsc')

test('the package types and the examples pass tsc --strict', () => {
  const done = spawnSync(process.execPath, [tsc, '--noEmit', '-p', path.join(here, 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(done.status, 0, done.stdout + done.stderr)
})

test('every example compiles and runs', (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-examples-'))
  t.after(() => fs.rmSync(out, { recursive: true, force: true }))
  const built = spawnSync(process.execPath, [tsc, '-p', path.join(examples, 'tsconfig.json'), '--outDir', out], { encoding: 'utf8' })
  assert.equal(built.status, 0, built.stdout + built.stderr)
  // `require('shipwarden')` from the compiled examples finds this package.
  fs.mkdirSync(path.join(out, 'node_modules'))
  fs.symlinkSync(here, path.join(out, 'node_modules', 'shipwarden'), 'dir')
  const scripts = fs.readdirSync(out).filter((f) => f.endsWith('.js'))
  assert.ok(scripts.length >= 2, `examples: ${scripts}`)
  for (const script of scripts) {
    const run = spawnSync(process.execPath, [path.join(out, script)], { encoding: 'utf8', timeout: 60000 })
    assert.equal(run.status, 0, `${script}: ${run.stdout}${run.stderr}`)
  }
})

test("the README's Node tour runs", (t) => {
  const readme = fs.readFileSync(path.join(here, '..', '..', 'README.md'), 'utf8')
  const code = readme.split('## A 30-second tour (Node)')[1].split('```js')[1].split('```')[0]
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-tour-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'tour.mjs')
  fs.writeFileSync(file, code.replace("from 'shipwarden'", `from ${JSON.stringify(path.join(here, 'index.mjs'))}`))
  const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30000 })
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /REFUSED R-2b planned/)
})
