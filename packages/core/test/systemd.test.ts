import { describe, expect, it } from "vitest";
import { type DeploymentDefinition, evaluateDeployment } from "../src/index.js";
import {
  environmentLine,
  execLine,
  parseExecLine,
  rawUnitText,
  SystemdQuoteError,
  type SystemdRefResolver,
  systemdMemory,
  systemdServiceOf,
  systemdTimespan,
  unitEscape,
  unitQuote,
} from "../src/systemd.js";

const HOSTILE = [
  "plain",
  "with space",
  `it's "quoted"`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${HOME} is the hostile value
  "$(rm -rf /) `id` $HOME ${HOME} $$",
  "100% %n %%",
  "back\\slash\\",
  "line one\nline two\r\n\ttabbed",
  "ünïcødé ✓ 日本",
  ";",
  "",
  "\x01\x7f",
];

const resolve: SystemdRefResolver = (r) =>
  r.kind === "host" ? "127.0.0.1" : r.kind === "port" ? "5432" : { unit: "%S/x" };

function evaluate(def: Omit<DeploymentDefinition, "name">) {
  return evaluateDeployment({ name: "shop", ...def } as DeploymentDefinition, {
    file: "nix2dream.config.ts",
  }).deployment;
}

describe("systemd quoting", () => {
  it("quotes every hostile argument so that systemd's splitting gives it back", () => {
    for (const v of HOSTILE) {
      expect(parseExecLine(execLine(["/bin/echo", v]))).toEqual(["/bin/echo", v]);
    }
  });

  it("leaves safe words bare and escapes specifiers and dollars in quoted words", () => {
    expect(unitQuote("a/b-c.d")).toBe("a/b-c.d");
    expect(unitQuote("50%")).toBe('"50%%"');
    expect(unitQuote("$HOME")).toBe('"$$HOME"');
    expect(unitQuote("")).toBe('""');
  });

  it("keeps raw unit text unescaped inside a quoted argument", () => {
    expect(unitQuote(`${rawUnitText("%S/shop")}/a b%`)).toBe('"%S/shop/a b%%"');
  });

  it("refuses a program systemd would read as a prefix or a relative path", () => {
    expect(() => execLine(["-rm"])).toThrow(SystemdQuoteError);
    expect(() => execLine(["./bin/x"])).toThrow(/relative path/);
    expect(() => execLine(["/bin/echo", "a\0b"])).toThrow(/NUL/);
  });

  it("escapes % in plain settings and quotes environment assignments", () => {
    expect(unitEscape("100%")).toBe("100%%");
    expect(environmentLine("A", 'x "y" \\ \n')).toBe('"A=x \\"y\\" \\\\ \\n"');
  });

  it("escapes like a character-by-character C escaper on hostile and random text", () => {
    // The escaper as first written, one character at a time: the faster one must agree.
    const reference = (text: string, percent: boolean, dollar: boolean) => {
      let out = "";
      for (const ch of text) {
        const c = ch.codePointAt(0) as number;
        if (ch === "\\") out += "\\\\";
        else if (ch === '"') out += '\\"';
        else if (ch === "\n") out += "\\n";
        else if (ch === "\t") out += "\\t";
        else if (ch === "\r") out += "\\r";
        else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
        else if (ch === "%" && percent) out += "%%";
        else if (ch === "$" && dollar) out += "$$";
        else out += ch;
      }
      return out;
    };
    const alphabet = [
      "a",
      " ",
      "\\",
      '"',
      "'",
      "%",
      "$",
      "$$",
      "\n",
      "\r",
      "\t",
      "\x1b",
      "\x7f",
      "✓",
      "😀",
      "{",
      "`",
    ];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const texts = [...HOSTILE];
    for (let i = 0; i < 300; i++) {
      const n = random() % 12;
      texts.push(Array.from({ length: n }, () => alphabet[random() % alphabet.length]).join(""));
    }
    for (const t of texts) {
      expect(environmentLine("K", t)).toBe(`"${reference(`K=${t}`, false, false)}"`);
      if (!/^[A-Za-z0-9_@+:,./=-]+$/.test(t)) {
        expect(unitQuote(t)).toBe(`"${reference(t, true, true)}"`);
        expect(parseExecLine(execLine(["/bin/echo", t]))).toEqual(["/bin/echo", t]);
      }
    }
  });

  it("quotes words with raw unit text as splitting them at the marks would", () => {
    // The quoting as first written: cut at well-formed raw text, then test and escape each part.
    const open = "\uE002";
    const close = "\uE003";
    const escaped = (t: string) => unitQuote(t === "" ? "" : `${t}"`).slice(1, -3);
    const reference = (value: string) => {
      const parts: Array<{ raw: boolean; text: string }> = [];
      let last = 0;
      for (const m of value.matchAll(/\uE002([^\uE002\uE003]*)\uE003/g)) {
        if (m.index > last) parts.push({ raw: false, text: value.slice(last, m.index) });
        parts.push({ raw: true, text: m[1] ?? "" });
        last = m.index + m[0].length;
      }
      if (last < value.length) parts.push({ raw: false, text: value.slice(last) });
      if (parts.every((p) => p.raw || /^[A-Za-z0-9_@+:,./=-]+$/.test(p.text))) {
        return parts.map((p) => p.text).join("");
      }
      return `"${parts.map((p) => (p.raw ? p.text : escaped(p.text))).join("")}"`;
    };
    const alphabet = ["a", "%S", " ", '"', "\\", "$", "\n", open, close, rawUnitText("%t/x")];
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 500; i++) {
      const n = 1 + (random() % 8);
      const t = Array.from({ length: n }, () => alphabet[random() % alphabet.length]).join("");
      expect(unitQuote(t), JSON.stringify(t)).toBe(reference(t));
    }
    expect(unitQuote(`${rawUnitText("%S/a")}/b c`)).toBe('"%S/a/b c"');
    expect(unitQuote(`${rawUnitText("%S/a")}/b`)).toBe("%S/a/b");
    expect(() => unitQuote(`${rawUnitText("%S")}\0`)).toThrow(SystemdQuoteError);
    expect(() => unitQuote(`a b\0${rawUnitText("%S")}`)).toThrow(SystemdQuoteError);
  });

  it("converts durations and memory quantities", () => {
    expect(systemdTimespan(5)).toBe("5s");
    expect(systemdTimespan(0.5)).toBe("500ms");
    expect(systemdMemory("512Mi")).toBe("512M");
    expect(systemdMemory("1G")).toBe("1000000000");
    expect(systemdMemory("lots")).toBeNull();
  });
});

describe("systemdServiceOf", () => {
  it("maps started, healthy and completed dependencies onto Wants, Requires and After", () => {
    const d = evaluate({
      services: {
        db: { command: ["postgres"], ports: { pg: 5432 }, healthcheck: { port: "pg" } },
        migrate: { command: ["migrate"], restart: { policy: "on-failure" } },
        cache: { command: ["redis-server"] },
        api: {
          command: ["api"],
          dependsOn: { db: "healthy", migrate: "completed", cache: "started" },
        },
      },
    });
    const api = systemdServiceOf(d.services.api as never, d, { resolve, execStart: ["api"] });
    expect(api.unit.Wants).toEqual(["shop-cache.service"]);
    expect(api.unit.Requires).toEqual(["shop-db.service", "shop-migrate.service"]);
    expect(api.unit.After).toEqual([
      "shop-cache.service",
      "shop-db.service",
      "shop-migrate.service",
    ]);
    const migrate = systemdServiceOf(d.services.migrate as never, d, {
      resolve,
      execStart: ["migrate"],
    });
    expect(migrate.service.Type).toEqual(["oneshot"]);
    expect(migrate.service.RemainAfterExit).toEqual(["yes"]);
    const db = systemdServiceOf(d.services.db as never, d, { resolve, execStart: ["postgres"] });
    expect(db.service.ExecStartPost?.length).toBe(1);
  });

  it("warns about backoff only for services whose restart a file defines, dotted names too", () => {
    const d = evaluate({
      services: {
        "a.restart": { command: ["a"] },
        a: { command: ["a"], restart: { policy: "always" } },
        "b.restart.x": { command: ["b"], restart: { backoff: { max: 60 } } },
        c: { command: ["c"] },
      },
    });
    const backoffWarned = (name: string) =>
      systemdServiceOf(d.services[name] as never, d, {
        resolve,
        execStart: ["x"],
      }).diagnostics.some((x) => x.option === `services.${name}.restart.backoff`);
    expect(backoffWarned("a")).toBe(true);
    expect(backoffWarned("a.restart")).toBe(false);
    expect(backoffWarned("b.restart.x")).toBe(true);
    expect(backoffWarned("c")).toBe(false);
  });

  it("does not take a service named `<name>.restart` for a definition of `<name>`'s restart", () => {
    // `services.a.restart` is a dotted path of both; only the service `a.restart` is defined.
    const d = evaluate({
      services: { a: { command: ["a"] }, "a.restart": { command: ["a"] } },
    });
    const warned = systemdServiceOf(d.services.a as never, d, {
      resolve,
      execStart: ["x"],
    }).diagnostics.filter((x) => x.option.startsWith("services.a.restart"));
    expect(warned).toEqual([]);
  });
});

describe("systemdServiceOf's execArgv", () => {
  it("holds what systemd reads from each wrapper line without specifiers, and only those", () => {
    const d = evaluate({
      services: {
        app: {
          command: ["/bin/app"],
          secrets: { TOKEN: { fromEnv: "APP_TOKEN" } },
          preStart: HOSTILE.join(" "),
          healthcheck: { command: ["/bin/check", ...HOSTILE] },
          volumes: { data: { path: "/data", init: "echo 100% > x" } },
        },
      },
    });
    const m = systemdServiceOf(d.services.app as never, d, {
      resolve,
      execStart: ["/bin/app", ...HOSTILE],
    });
    const lines = [
      ...(m.service.ExecStartPre ?? []),
      ...(m.service.ExecStart ?? []),
      ...(m.service.ExecStartPost ?? []),
    ];
    // preStart, ExecStart (through the secrets wrapper) and the healthcheck; not the volume's
    // line, whose directory is the specifier %S.
    expect(m.execArgv.size).toBe(3);
    const volumeLine = lines.find((l) => l.includes("%S/"));
    expect(volumeLine).toBeDefined();
    expect(m.execArgv.has(volumeLine as string)).toBe(false);
    for (const [line, argv] of m.execArgv) {
      expect(lines).toContain(line);
      expect(parseExecLine(line)).toEqual(argv);
    }
  });
});

describe("parseExecLine against systemd.service(5)'s documented command lines", () => {
  it("splits single-quoted words as one argument", () => {
    expect(parseExecLine("/bin/sh -c 'dmesg | tac'")).toEqual(["/bin/sh", "-c", "dmesg | tac"]);
  });

  it("reads C escapes inside and outside quotes", () => {
    expect(parseExecLine('/bin/echo "a\\tb" \\x41\\u00e9 "\\"q\\""')).toEqual([
      "/bin/echo",
      "a\tb",
      "Aé",
      '"q"',
    ]);
  });

  it("turns $$ into $ in arguments, and %% into %", () => {
    expect(parseExecLine('/bin/echo "$$HOME" 100%%')).toEqual(["/bin/echo", "$HOME", "100%"]);
  });

  it("rejects an unterminated quote", () => {
    expect(() => parseExecLine('/bin/echo "open')).toThrow(SystemdQuoteError);
  });
});

describe("parseExecLine against a character-by-character reading", () => {
  // The parser as first written, one character at a time: the faster one must agree on any
  // line, including ones no printer writes (stray quotes, bad escapes).
  const reference = (line: string): string[] | "error" => {
    const s = line.replace(/%%/g, "%");
    const argv: string[] = [];
    let i = 0;
    const escapes: Record<string, string> = {
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
      s: " ",
    };
    const hexLength: Record<string, number> = { x: 2, u: 4, U: 8 };
    while (i < s.length) {
      while (i < s.length && /[ \t\n]/.test(s[i] as string)) i++;
      if (i >= s.length) break;
      let word = "";
      let quote: string | null = null;
      for (; i < s.length; ) {
        const ch = s[i] as string;
        if (quote === null && /[ \t\n]/.test(ch)) break;
        i++;
        if (ch === "\\") {
          const e = s[i++] ?? "";
          if (e in escapes) word += escapes[e];
          else if ("\\\"' ".includes(e) && e !== "") word += e;
          else if (e in hexLength) {
            const n = hexLength[e] as number;
            const h = s.slice(i, i + n);
            if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) return "error";
            i += n;
            try {
              word += String.fromCodePoint(Number.parseInt(h, 16));
            } catch {
              return "error";
            }
          } else return "error";
        } else if (quote !== null && ch === quote) quote = null;
        else if (quote === null && (ch === '"' || ch === "'")) quote = ch;
        else word += ch;
      }
      if (quote !== null) return "error";
      argv.push(argv.length === 0 ? word : word.replace(/\$\$/g, "$"));
    }
    return argv;
  };
  const parsed = (line: string): string[] | "error" => {
    try {
      return parseExecLine(line);
    } catch (e) {
      if (e instanceof SystemdQuoteError) return "error";
      if (e instanceof RangeError) return "error";
      throw e;
    }
  };

  it("gives the same words or the same refusal on random lines", () => {
    const alphabet = [
      " ",
      "\t",
      "\n",
      '"',
      "'",
      "\\",
      "a",
      "n",
      "x",
      "u",
      "4",
      "f",
      "%",
      "%%",
      "$$",
      "✓",
    ];
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let k = 0; k < 2000; k++) {
      const n = random() % 14;
      const line = Array.from({ length: n }, () => alphabet[random() % alphabet.length]).join("");
      expect(parsed(line), JSON.stringify(line)).toEqual(reference(line));
    }
  });
});

describe("execLine", () => {
  it("keeps $ in the program name, where systemd substitutes nothing", () => {
    const line = execLine(["/opt/a$b/run", "$x"]);
    expect(line).toBe('"/opt/a$b/run" "$$x"');
    expect(parseExecLine(line)).toEqual(["/opt/a$b/run", "$x"]);
  });

  it("refuses quotes and control characters in the program name", () => {
    expect(() => execLine(['/bin/a"b'])).toThrow(/quote, a backslash or a control character/);
    expect(() => execLine(["/bin/a\nb"])).toThrow(SystemdQuoteError);
  });

  it("writes an Exec prefix before the program", () => {
    expect(execLine(["/bin/true"], "-")).toBe("-/bin/true");
  });
});

describe("systemdServiceOf options", () => {
  const base = () =>
    evaluate({
      services: {
        app: {
          description: "line one\n  line two",
          command: ["/bin/app"],
          files: { "/etc/app.conf": "x=1" },
          volumes: { data: { path: "/data", init: "touch ok" } },
          env: { GOOD: "100%" },
          healthcheck: {
            command: ["/bin/true"],
            interval: 2,
            timeout: 1,
            retries: 3,
            startPeriod: 5,
          },
        },
      },
    });

  it("refuses a working directory systemd would cut or join with the next line", () => {
    for (const workingDir of ["/srv/app ", " /srv/app", "/srv/app\\"]) {
      const d = evaluate({ services: { app: { command: ["/bin/app"], workingDir } } });
      const m = systemdServiceOf(d.services.app as never, d, { resolve, execStart: ["/bin/app"] });
      expect(m.service.WorkingDirectory).toBeUndefined();
      expect(m.diagnostics.map((x) => [x.severity, x.option])).toContainEqual([
        "error",
        "services.app.workingDir",
      ]);
    }
    const ok = evaluate({
      services: { app: { command: ["/bin/app"], workingDir: "/srv/a b\\c" } },
    });
    const m = systemdServiceOf(ok.services.app as never, ok, { resolve, execStart: ["/bin/app"] });
    expect(m.service.WorkingDirectory).toEqual(["/srv/a b\\c"]);
  });

  it("folds a multi-line description into one line", () => {
    const d = base();
    const m = systemdServiceOf(d.services.app as never, d, { resolve, execStart: ["/bin/app"] });
    expect(m.unit.Description).toEqual(["line one line two"]);
  });

  it("takes the unit names, shell, file and volume locations from the caller", () => {
    const d = base();
    const m = systemdServiceOf(d.services.app as never, d, {
      resolve,
      execStart: ["/bin/app"],
      unitName: (s) => `x-${s}.service`,
      shell: "/nix/store/sh",
      filePath: () => null,
      volumePath: () => "/srv/data",
    });
    expect(m.service.StateDirectory).toBeUndefined();
    expect(m.service.ExecStartPre).toHaveLength(1);
    expect(m.service.ExecStartPre?.[0]).toMatch(/^\/nix\/store\/sh -ec "d=\/srv\/data\\n/);
  });

  it("reports an environment name that is not a variable name and escapes % in values", () => {
    const d = base();
    // Evaluation already refuses such names; a hand-built deployment may still carry one.
    const app = d.services.app as NonNullable<typeof d.services.app>;
    const m = systemdServiceOf({ ...app, env: { ...app.env, "BAD-NAME": "x" } }, d, {
      resolve,
      execStart: ["/bin/app"],
    });
    expect(m.environment).toEqual({ GOOD: "100%%" });
    expect(m.diagnostics).toMatchObject([
      { severity: "error", option: "services.app.env.BAD-NAME" },
    ]);
  });

  it("carries env names that are also Object.prototype members (`__proto__`, `constructor`)", () => {
    // JSON.parse: an object literal's `__proto__:` would set the prototype instead of a key.
    const env = JSON.parse(
      '{"__proto__": "p $(id) \\"q\\"", "constructor": "c\\nline", "toString": "100%", "hasOwnProperty": "h"}',
    ) as Record<string, string>;
    const d = evaluate({ services: { app: { command: ["/bin/app"], env } } });
    const m = systemdServiceOf(d.services.app as never, d, { resolve, execStart: ["/bin/app"] });
    expect(Object.keys(m.environment).sort()).toEqual([
      "__proto__",
      "constructor",
      "hasOwnProperty",
      "toString",
    ]);
    expect(Object.getOwnPropertyDescriptor(m.environment, "__proto__")?.value).toBe('p $(id) "q"');
    expect(m.environment.toString).toBe("100%%");
    expect(m.diagnostics).toEqual([]);
  });

  it("gives the start job time for the whole health loop", () => {
    const d = base();
    const m = systemdServiceOf(d.services.app as never, d, { resolve, execStart: ["/bin/app"] });
    // start period 5 + (retries 3 + 1) × (interval 2 + timeout 1) + 10 s margin
    expect(m.service.TimeoutStartSec).toEqual(["27s"]);
  });

  it("reports an empty command and a NUL byte instead of writing a broken line", () => {
    const d = base();
    const none = systemdServiceOf(d.services.app as never, d, { resolve, execStart: [] });
    expect(none.service.ExecStart).toBeUndefined();
    expect(none.diagnostics.map((x) => x.option)).toContain("services.app.command");
    const nul = systemdServiceOf(d.services.app as never, d, {
      resolve,
      execStart: ["/bin/app", "a\0b"],
    });
    expect(nul.service.ExecStart).toBeUndefined();
    expect(nul.diagnostics.some((x) => /NUL/.test(x.message))).toBe(true);
  });

  it("reads a secret file that cannot be a credential in the wrapper, never its value in the unit", () => {
    const d = evaluate({
      services: {
        app: { command: ["/bin/app"], secrets: { TOKEN: { fromFile: "/run/my keys/token" } } },
      },
    });
    const m = systemdServiceOf(d.services.app as never, d, { resolve, execStart: ["/bin/app"] });
    expect(m.service.LoadCredential).toBeUndefined();
    expect(m.credentials).toEqual([]);
    expect(m.service.ExecStart?.[0]).toContain("'/run/my keys/token'");
    expect(m.diagnostics.map((x) => x.option)).toEqual(["services.app.secrets.TOKEN.fromFile"]);
  });

  it("reports a resolver's unit text that is not safe to insert raw", () => {
    const d = evaluate({
      services: { app: { command: ["/bin/app"], volumes: { data: { path: "/d" } } } },
    });
    const app = d.services.app as NonNullable<typeof d.services.app>;
    const m = systemdServiceOf({ ...app, env: { DATA: "\uE000volume:app:data\uE001" } }, d, {
      resolve: () => ({ unit: '%S/a "b"' }),
      execStart: ["/bin/app"],
    });
    expect(m.environment).toEqual({ DATA: "" });
    expect(m.diagnostics).toMatchObject([{ severity: "error", option: "services.app" }]);
  });

  it("makes a service one-shot on request and skips its healthcheck with a warning", () => {
    const d = base();
    const m = systemdServiceOf(d.services.app as never, d, {
      resolve,
      execStart: ["/bin/app"],
      oneshot: true,
      dynamicUser: true,
      wantedBy: ["multi-user.target"],
      partOf: ["x.target"],
    });
    expect(m.service.Type).toEqual(["oneshot"]);
    expect(m.service.ExecStartPost).toBeUndefined();
    expect(m.service.DynamicUser).toEqual(["yes"]);
    expect(m.install.WantedBy).toEqual(["multi-user.target"]);
    expect(m.unit.PartOf).toEqual(["x.target"]);
    expect(m.diagnostics.map((x) => x.option)).toContain("services.app.healthcheck");
  });
});
