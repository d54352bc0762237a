'use strict'
// The Node side of the bindings' overhead figures (benches/bindings.sh):
// a status round trip from Node, and a deploy target written in JS called
// from Rust (sync method and async method). Medians of 5 rounds.

const sw = require('../bindings/node')

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main() {
  const manager = await sw.ReleaseManager.open(null)
  await manager.plan({ user: 'rita', roles: ['release_manager'] }, { project: 'shop', version: '1.0.0' })
  const n = 5000
  const status = []
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await manager.status('shop-1.0.0')
    status.push(Number(process.hrtime.bigint() - start) / n / 1000)
  }
  const target = { name: 'web-1', deploy: () => 'ok', rollback: () => 'ok', status: (key) => (key.endsWith('1') ? 'done' : null) }
  const asyncTarget = { ...target, status: async (key) => (key.endsWith('1') ? 'done' : null) }
  const sync = []
  const asyncs = []
  for (let round = 0; round < 5; round++) {
    sync.push((await sw._bench.jsPort(target, 20000)) / 1000)
    asyncs.push((await sw._bench.jsPort(asyncTarget, 20000)) / 1000)
  }
  // The floor of a call that must hop onto the JS thread and back: a worker thread asks the main thread, which answers.
  const floor = await pingPong(20000)
  console.log(`calls from Node: await manager.status ${median(status).toFixed(2)} µs`)
  console.log(`floor: worker -> main thread -> worker ping-pong ${floor.toFixed(2)} µs`)
  console.log(
    `port round trip from Rust: JS deploy-target status ${median(sync).toFixed(2)} µs (goal < 20 µs), async method ${median(asyncs).toFixed(2)} µs`,
  )
}

function pingPong(n) {
  const { Worker } = require('node:worker_threads')
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads')
     parentPort.once('message', ({ n, port }) => {
       let i = 0
       const start = process.hrtime.bigint()
       port.on('message', () => {
         if (++i === n) { parentPort.postMessage(Number(process.hrtime.bigint() - start) / n / 1000); port.close() }
         else port.postMessage(i)
       })
       port.postMessage(0)
     })`,
    { eval: true },
  )
  const { port1, port2 } = new (require('node:worker_threads').MessageChannel)()
  port1.on('message', (i) => port1.postMessage(i))
  return new Promise((resolve) => {
    worker.once('message', (us) => {
      port1.close()
      worker.terminate().then(() => resolve(us))
    })
    worker.postMessage({ n, port: port2 }, [port2])
  })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
