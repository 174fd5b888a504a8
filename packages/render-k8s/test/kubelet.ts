/**
 * What kubelet does to a container's command, args and env values before the program sees
 * them (no kubelet runs here; this follows the rules the Kubernetes API documents for
 * `command`, `args` and `env[].value`): `$$` is an escaped `$`; `$(NAME)` is replaced when NAME
 * is a variable defined earlier in the container's env, kept as written otherwise; any other
 * `$` is kept. Tests that run a rendered container's command go through `kubeletView`.
 */

/** kubelet's expansion of one value against the variables defined so far. */
export function kubeletExpand(input: string, vars: ReadonlyMap<string, string>): string {
  let out = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c !== "$" || i + 1 >= input.length) {
      out += c;
      continue;
    }
    const next = input[i + 1];
    if (next === "$") {
      out += "$";
      i++;
    } else if (next === "(") {
      const close = input.indexOf(")", i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      out += vars.has(name) ? vars.get(name) : `$(${name})`;
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

export interface Ctr {
  name: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
}

/** A container's argv and env as its program gets them after kubelet's expansion. */
export function asKubeletRuns(c: Ctr): { argv: string[]; env: Record<string, string> } {
  const vars = new Map<string, string>();
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value === undefined) continue;
    const v = kubeletExpand(e.value, vars);
    vars.set(e.name, v);
    env[e.name] = v;
  }
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a) => kubeletExpand(a, vars));
  return { argv, env };
}

/** The container as its program sees it: command, args and env values after kubelet's expansion. */
export function kubeletView<C extends Ctr>(c: C): C {
  const vars = new Map<string, string>();
  const env = c.env?.map((e) => {
    if (e.value === undefined) return e;
    const value = kubeletExpand(e.value, vars);
    vars.set(e.name, value);
    return { ...e, value };
  });
  const out: C = { ...c };
  if (env) out.env = env;
  if (c.command) out.command = c.command.map((a) => kubeletExpand(a, vars));
  if (c.args) out.args = c.args.map((a) => kubeletExpand(a, vars));
  return out;
}
