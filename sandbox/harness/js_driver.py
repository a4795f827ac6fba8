"""JavaScript: the program in a `node:vm` context of its own, called by a trusted driver.

`DRIVER` is the main module. Before anything of the program runs it reads the nonce from a
pipe; it then creates a context from a null-prototype object (so no object of the driver's
realm is reachable from it) and runs the program there, with a `console` that prints
nothing and no `require`, `process` or timers. The tests run in the driver's realm, in
strict mode, with the driver's own `require`: `require('assert')`, `test` and
`Module.prototype.require` are the driver's. Each name the tests use that the program
defines as a function is bound to a proxy: the driver sends the arguments as JSON text, an
invoker inside the context calls the function and returns its result as JSON text, and the
driver rebuilds the value from its own realm's types (numbers, strings, booleans, null,
undefined, arrays and plain objects; anything else is an error). The completion record is
written after the tests returned.
"""

from __future__ import annotations

PROGRAM_FILE, TESTS_FILE, DRIVER_FILE = "program.js", "tests.js", "driver.js"

DRIVER = r"""'use strict';
// Added by the sandbox: run program.js in a context of its own, then tests.js against it.
const fs = require('fs');
const vm = require('vm');
const nonce = fs.readFileSync(4, 'ascii');
fs.closeSync(4);

const INVOKER = `(() => {
  const evaluate = eval, stringify = JSON.stringify, parse = JSON.parse, isArray = Array.isArray;
  const getPrototypeOf = Object.getPrototypeOf, entries = Object.entries, objectPrototype = Object.prototype;
  const encode = (value, depth) => {
    if (depth > 100) throw new TypeError('the value is nested too deeply');
    if (value === undefined) return ['u'];
    if (value === null || typeof value === 'boolean' || typeof value === 'string') return ['v', value];
    if (typeof value === 'number') return ['n', Object.is(value, -0) ? '-0' : String(value)];
    if (isArray(value)) return ['a', value.map((item) => encode(item, depth + 1))];
    if (typeof value === 'object' && [objectPrototype, null].includes(getPrototypeOf(value))) {
      return ['o', entries(value).map(([key, item]) => [key, encode(item, depth + 1)])];
    }
    throw new TypeError('a value of type ' + typeof value + ' is not plain data');
  };
  const decode = (node) => {
    switch (node[0]) {
      case 'u': return undefined;
      case 'v': return node[1];
      case 'n': return Number(node[1]);
      case 'a': return node[1].map(decode);
      default: { const object = {}; for (const [key, item] of node[1]) object[key] = decode(item); return object; }
    }
  };
  return (name, argumentsText) => {
    try {
      return stringify({ value: encode(evaluate(name)(...decode(parse(argumentsText))), 0) });
    } catch (error) {
      let message = 'an exception that could not be described';
      try { message = String(error && error.stack || error); } catch {}
      return stringify({ error: message });
    }
  };
})()`;
const CONSOLE = `globalThis.console = Object.fromEntries(
  ['log', 'error', 'warn', 'info', 'debug', 'trace', 'dir', 'table'].map((name) => [name, () => {}]));`;

function encode(value, depth) {
  if (depth > 100) throw new TypeError('an argument is nested too deeply');
  if (value === undefined) return ['u'];
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return ['v', value];
  if (typeof value === 'number') return ['n', Object.is(value, -0) ? '-0' : String(value)];
  if (Array.isArray(value)) return ['a', value.map((item) => encode(item, depth + 1))];
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return ['o', Object.entries(value).map(([key, item]) => [key, encode(item, depth + 1)])];
  }
  throw new TypeError('the tests passed a value the program cannot receive: ' + typeof value);
}

function decode(node, depth) {
  if (!Array.isArray(node) || depth > 101) throw new TypeError('the program returned malformed data');
  const [tag, payload] = node;
  if (tag === 'u') return undefined;
  if (tag === 'v' && (payload === null || ['boolean', 'string'].includes(typeof payload))) return payload;
  if (tag === 'n' && typeof payload === 'string') return Number(payload);
  if (tag === 'a' && Array.isArray(payload)) return payload.map((item) => decode(item, depth + 1));
  if (tag === 'o' && Array.isArray(payload)) {
    const object = {};
    for (const pair of payload) {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string') {
        throw new TypeError('the program returned malformed data');
      }
      const value = decode(pair[1], depth + 1);
      Object.defineProperty(object, pair[0], { value, enumerable: true, writable: true, configurable: true });
    }
    return object;
  }
  throw new TypeError('the program returned malformed data');
}

const context = vm.createContext(Object.create(null));
const invoke = vm.runInContext(INVOKER, context);
vm.runInContext(CONSOLE, context);
vm.runInContext(fs.readFileSync('program.js', 'utf8'), context, { filename: 'program.js' });

function call(name, args) {
  const answer = invoke(name, JSON.stringify(encode(args, 0)));
  if (typeof answer !== 'string') throw new TypeError('the program returned malformed data');
  const reply = JSON.parse(answer);
  if (typeof reply.error === 'string') throw new Error('the program raised ' + reply.error);
  return decode(reply.value, 0);
}

const tests = fs.readFileSync('tests.js', 'utf8');
const reserved = new Set(['require', 'module', 'exports', '__filename', '__dirname', '__ledex_program']);
const identifiers = new Set(tests.match(/[A-Za-z_$][\w$]*/g) || []);
const bound = {};
for (const name of identifiers) {
  if (reserved.has(name) || name in globalThis) continue;
  let kind;
  try { kind = vm.runInContext(`typeof ${name}`, context); } catch { continue; }
  if (kind === 'function') bound[name] = (...args) => call(name, args);
}
const names = Object.keys(bound);
const run = vm.compileFunction(`'use strict';\nconst { ${names.join(', ')} } = __ledex_program;\n{\n${tests}\n}`,
  ['require', '__ledex_program'], { filename: 'tests.js' });
run(require, bound);
fs.writeSync(3, nonce + ' complete 0 - -\n');
"""
