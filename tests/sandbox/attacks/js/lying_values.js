// Returns objects whose getters, valueOf and Proxy traps lie to comparisons.
function add(a, b) {
  return { valueOf() { return 3; }, toString() { return '3'; } };
}
function twice(values) {
  return new Proxy([], { get: (target, key) => (key === 'length' ? 2 : [2, 4][key]) });
}
