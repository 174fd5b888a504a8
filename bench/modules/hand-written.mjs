// A hand-written evaluator of the Nix workload (bench/modules/nix-workload.mjs) and nothing else:
// no module system, no laziness, no general types; just the merge rules this one workload needs
// (priorities of mkDefault/mkForce, mkAfter order in lists, mkIf, attrsOf per key, the few type
// checks its options have). It is what a program written for exactly this input costs, a lower
// bound no general module engine can beat; nix-workload.mjs prints the engine's time as a ratio
// of it. Its output is compared value for value with the engine's.

const PRIORITY = { mkDefault: 1000, mkForce: 50 };
const PLAIN = 100;
const DEFAULTS = {
  enable: true,
  host: "127.0.0.1",
  port: 8000,
  args: [],
  env: {},
  restart: "on-failure",
  user: null,
  replicas: 1,
  dependsOn: [],
};
const RESTARTS = new Set(["always", "on-failure", "no"]);

/** The definitions of one option that win on priority (the lowest number), in module order. */
function winners(table, key, def) {
  if (def.if === false) return;
  const prio = def.prio ? PRIORITY[def.prio] : PLAIN;
  const cur = table.get(key);
  if (cur === undefined || prio < cur.prio) table.set(key, { prio, defs: [def] });
  else if (prio === cur.prio) cur.defs.push(def);
}

/** A list's merged value: every winning definition's items, mkAfter ones last. */
function listValue(defs) {
  const out = [];
  for (const d of defs) if (d.order !== "mkAfter") out.push(...d.value);
  for (const d of defs) if (d.order === "mkAfter") out.push(...d.value);
  return out;
}

/** A single-valued option's value: all winning definitions must agree. */
function oneValue(name, key, defs) {
  const v = defs[0].value;
  for (const d of defs) {
    if (d.value !== v) throw new Error(`services.${name}.${key}: conflicting definitions`);
  }
  return v;
}

function service(name, perModule) {
  const options = new Map();
  const env = new Map();
  for (const defs of perModule) {
    if (defs === undefined) continue;
    for (const key in defs) {
      if (key.startsWith("env.")) winners(env, key.slice(4), defs[key]);
      else winners(options, key, defs[key]);
    }
  }
  const value = (key) => {
    const w = options.get(key);
    if (w === undefined) {
      if (key === "name") return name;
      if (key in DEFAULTS) return DEFAULTS[key];
      throw new Error(`services.${name}.${key} is used but not defined`);
    }
    return Array.isArray(w.defs[0].value) ? listValue(w.defs) : oneValue(name, key, w.defs);
  };
  const s = {
    enable: value("enable"),
    name: value("name"),
    host: value("host"),
    port: value("port"),
    command: value("command"),
    args: value("args"),
    env: {},
    restart: value("restart"),
    user: value("user"),
    replicas: value("replicas"),
    dependsOn: value("dependsOn"),
    url: "",
  };
  for (const [k, w] of env) s.env[k] = oneValue(name, `env.${k}`, w.defs);
  if (!Number.isInteger(s.port) || s.port < 0 || s.port > 65535) throw new Error("port");
  if (!RESTARTS.has(s.restart)) throw new Error("restart");
  if (!Number.isInteger(s.replicas) || s.replicas < 1 || s.replicas > 100)
    throw new Error("replicas");
  s.url = `http://${s.host}:${s.port}`;
  return s;
}

/** The workload's config from its spec (`workloadSpec(n)`), computed at once. */
export function handWritten(spec) {
  const services = {};
  for (const name of Object.keys(spec.a)) {
    services[name] = service(name, [spec.a[name], spec.b[name], spec.c[name]]);
  }
  const all = Object.values(services);
  return {
    services,
    enabledCount: all.filter((s) => s.enable).length,
    ports: all.map((s) => s.port),
  };
}
