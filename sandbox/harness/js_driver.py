"""JavaScript: the tests run in a trusted node process that calls the program in a node process of its own.

`DRIVER` is the tests' main module. It reads the nonce from a pipe and the tests into memory,
then lets the program's process start (jobs.py removes the tests' files first). `HOST` runs
the program there as a script, with `require` but a `console` that prints nothing, and
answers the driver's requests, one JSON line each way: which of the names the tests use the
program defines as functions, and then each call, its arguments and its result encoded as
plain data (numbers, strings, booleans, null, undefined, arrays and plain objects; anything
else is an error). The tests run in the driver, in strict mode, with the driver's own
`require` (node's own modules only), `assert` and `Module.prototype.require`, and a
`console.assert` that throws (node's only prints); each name they use that the program
defines as a function is bound to a proxy that makes the call. The completion record is
written after the tests returned.
"""

from __future__ import annotations

PROGRAM_FILE, TESTS_FILE, DRIVER_FILE, HOST_FILE = "program.js", "tests.js", "driver.js", "host.js"

# Shared by both sides: sending values as plain data, and one JSON message per line over a pipe.
_WIRE = r"""
function encode(value, depth) {
  if (depth > 100) throw new TypeError('a value is nested too deeply');
  if (value === undefined) return ['u'];
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return ['v', value];
  if (typeof value === 'number') return ['n', Object.is(value, -0) ? '-0' : String(value)];
  if (Array.isArray(value)) return ['a', value.map((item) => encode(item, depth + 1))];
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return ['o', Object.entries(value).map(([key, item]) => [key, encode(item, depth + 1)])];
  }
  throw new TypeError('a value of type ' + typeof value + ' is not plain data');
}

function decode(node, depth) {
  if (!Array.isArray(node) || depth > 101) throw new TypeError('malformed data');
  const [tag, payload] = node;
  if (tag === 'u') return undefined;
  if (tag === 'v' && (payload === null || ['boolean', 'string'].includes(typeof payload))) return payload;
  if (tag === 'n' && typeof payload === 'string') return Number(payload);
  if (tag === 'a' && Array.isArray(payload)) return payload.map((item) => decode(item, depth + 1));
  if (tag === 'o' && Array.isArray(payload)) {
    const object = {};
    for (const pair of payload) {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string') throw new TypeError('malformed data');
      const value = decode(pair[1], depth + 1);
      Object.defineProperty(object, pair[0], { value, enumerable: true, writable: true, configurable: true });
    }
    return object;
  }
  throw new TypeError('malformed data');
}

let received = Buffer.alloc(0);
function readLine(fd) {
  const chunk = Buffer.alloc(1 << 16);
  for (;;) {
    const newline = received.indexOf(10);
    if (newline >= 0) {
      const line = received.subarray(0, newline).toString('utf8');
      received = received.subarray(newline + 1);
      return line;
    }
    const count = fs.readSync(fd, chunk, 0, chunk.length, null);
    if (count === 0) return null;
    received = Buffer.concat([received, chunk.subarray(0, count)]);
  }
}

function writeLine(fd, message) {
  fs.writeSync(fd, JSON.stringify(message) + '\n');
}

function describe(error) {
  try { return String(error && error.stack || error); } catch { return 'an exception that could not be described'; }
}
"""

DRIVER = (
    r"""'use strict';
// Added by the sandbox: read the nonce and the tests, then run the tests against the program's process.
const fs = require('fs');
const vm = require('vm');
const nonce = fs.readFileSync(4, 'ascii');
fs.closeSync(4);
const tests = fs.readFileSync('tests.js', 'utf8');
fs.writeSync(7, 'r');  // the program's process starts now
fs.closeSync(7);
"""
    + _WIRE
    + r"""
function request(message) {
  writeLine(5, message);
  const line = readLine(6);
  if (line === null) throw new Error("the program's process ended during a call");
  const reply = JSON.parse(line);
  if (typeof reply.error === 'string') throw new Error('the program raised ' + reply.error);
  return reply;
}

const reserved = new Set(['require', 'module', 'exports', '__filename', '__dirname', '__ledex_program']);
const identifiers = [...new Set(tests.match(/[A-Za-z_$][\w$]*/g) || [])]
  .filter((name) => !reserved.has(name) && !(name in globalThis));
const { functions } = request({ names: identifiers });
if (!Array.isArray(functions)) throw new TypeError('the program returned malformed data');
const bound = {};
for (const name of identifiers) {
  if (!functions.includes(name)) continue;
  bound[name] = (...args) => decode(request({ call: name, arguments: encode(args, 0) }).value, 0);
}
const names = Object.keys(bound);
console.assert = (holds, ...detail) => {  // node's only prints: a failed check must fail the tests
  if (!holds) throw new (require('assert').AssertionError)({ message: `console.assert failed ${detail.join(' ')}` });
};
const run = vm.compileFunction(`'use strict';\nconst { ${names.join(', ')} } = __ledex_program;\n{\n${tests}\n}`,
  ['require', '__ledex_program'], { filename: 'tests.js' });
const { builtinModules } = require('module');
const nodeRequire = (name) => {  // the program may have written files beside the tests: never load them
  if (typeof name !== 'string' || !builtinModules.includes(name.replace(/^node:/, ''))) {
    throw new Error(`the tests may require only node's own modules, not ${String(name)}`);
  }
  return require(name);
};
run(nodeRequire, bound);
fs.writeSync(3, nonce + ' complete 0 - -\n');
"""
)

HOST = (
    r"""'use strict';
// Added by the sandbox: run program.js as a script, then answer the driver's calls into it.
const fs = require('fs');
const vm = require('vm');
"""
    + _WIRE
    + r"""
const console = Object.fromEntries(
  ['log', 'error', 'warn', 'info', 'debug', 'trace', 'dir', 'table'].map((name) => [name, () => {}]));
Object.defineProperty(globalThis, 'console', { value: console, writable: true, configurable: true });
globalThis.require = require;
let failure = null;
try {
  vm.runInThisContext(fs.readFileSync('program.js', 'utf8'), { filename: 'program.js' });
} catch (error) {
  failure = describe(error);
}
const lookUp = (name) => vm.runInThisContext(name);
const isFunction = (name) => {
  try { return typeof lookUp(name) === 'function'; } catch { return false; }
};
for (let line = readLine(3); line !== null; line = readLine(3)) {
  let reply;
  try {
    const message = JSON.parse(line);
    if (failure !== null) {
      reply = { error: failure };
    } else if (Array.isArray(message.names)) {
      reply = { functions: message.names.filter(isFunction) };
    } else {
      reply = { value: encode(lookUp(message.call)(...decode(message.arguments, 0)), 0) };
    }
  } catch (error) {
    reply = { error: describe(error) };
  }
  writeLine(4, reply);
}
"""
)
