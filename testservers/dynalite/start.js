#!/usr/bin/env node
// Starts the pinned dynalite in memory on a loopback port for the integration
// tests. Used by scripts/servers.sh (dynalite_start); can be run by hand too:
//
//   node testservers/dynalite/start.js [--port N] [--host 127.0.0.1] [--parent-pid PID]
//
// --port 0 (the default) lets the kernel pick a free port, so there is no
// race between choosing a port and binding it. (dynalite's own cli.js treats
// port 0 as "unset" and falls back to 4567, hence this wrapper.)
// Once listening it prints one line "DYNALITE_LISTENING port=<port>" to stdout.
// With --parent-pid it exits by itself when that process is gone, so a killed
// test script does not leave a server behind.
'use strict'

// Tiny flag parser ("--name value" pairs) so that only dynalite itself is a dependency.
const argv = { port: '0', host: '127.0.0.1', 'parent-pid': '0' }
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i += 2) {
  const name = args[i].replace(/^--/, '')
  if (!(name in argv) || i + 1 >= args.length) {
    console.error('usage: start.js [--port N] [--host ADDR] [--parent-pid PID]')
    process.exit(2)
  }
  argv[name] = args[i + 1]
}

const dynalite = require('dynalite')

const server = dynalite({
  // No path: in-memory store, nothing to clean up.
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
})

server.on('error', (err) => {
  console.error('dynalite: ' + err.stack)
  process.exit(1)
})

server.listen(Number(argv.port), argv.host, () => {
  console.log('DYNALITE_LISTENING port=' + server.address().port)
})

function shutdown () {
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)

const parent = Number(argv['parent-pid'])
if (parent > 0) {
  setInterval(() => {
    try {
      process.kill(parent, 0)
    }
    catch (e) {
      if (e.code !== 'EPERM') {
        console.error('dynalite: parent ' + parent + ' is gone, exiting')
        process.exit(0)
      }
    }
  }, 1000).unref()
}
