import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tuneJsonSchema } from "@dynosaur/backtest";
import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "./helpers.js";

// The random plugin needs ceil(value / 2) dynos. No blackout or step set: the forecast's own pace.
const CONFIG = `
use: [random]
scaler:
  min_dynos: 1
  max_dynos: 10
plugins:
  - name: rnd
    type: random
`;
// Two hours: a quiet load with a burst to 14 (7 dynos) every 20 minutes, for 3 minutes.
const TRACE = `minute,value\n${Array.from({ length: 120 }, (_, i) => `${i},${i % 20 >= 17 ? 14 : 2 + (i % 3)}`).join("\n")}\n`;

function dir() {
  return tempDir({ "c.yaml": CONFIG, "t.csv": TRACE });
}

interface Point {
  name: string;
  cost_ratio: number;
  shortfall_percent: number;
  frontier: boolean;
  dominated_by: string[];
  headroom: number | null;
}

describe("dynosaur tune", () => {
  it("--json prints one object that the published schema accepts, consistent with itself", async () => {
    const { code, stdout, stderr } = await runCli(["tune", "c.yaml", "--trace", "t.csv", "--json"], { cwd: dir() });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    const json = tuneJsonSchema.parse(JSON.parse(stdout));
    expect(json).toMatchObject({
      trace: "t.csv",
      config: "c.yaml",
      boot_seconds: 60,
      min_dynos: 1,
      max_dynos: 10,
      minutes: 120,
      default_headroom: 0.2,
      chart: null,
    });
    expect(json.settings.map((s) => s.headroom)).toEqual([
      0, 0.05, 0.1, 0.15, 0.2, 0.225, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.75, 1,
    ]);
    expect(json.anchors.map((a) => a.name)).toEqual(["seed", "hysteresis", "hpa"]);
    expect(json.anchors.map((a) => a.policy)).toEqual(["seed", "hysteresis", "hpa"]);
    // Without --max-shortfall the target is the seed's shortfall.
    const seed = json.anchors.find((a) => a.name === "seed");
    expect(json.target).toEqual({ max_shortfall_percent: seed?.shortfall_percent, from: "seed" });
    // The recommendation: within the target, and no setting within it is cheaper.
    const within = json.settings.filter((s) => s.shortfall_percent <= json.target.max_shortfall_percent);
    expect(json.recommended.met).toBe(within.length > 0);
    expect(json.recommended.shortfall_percent).toBeLessThanOrEqual(json.target.max_shortfall_percent);
    expect(json.recommended.cost_ratio).toBe(Math.min(...within.map((s) => s.cost_ratio)));
    // Frontier and dominance agree with the figures.
    const beats = (a: Point, b: Point) =>
      a.cost_ratio <= b.cost_ratio &&
      a.shortfall_percent <= b.shortfall_percent &&
      (a.cost_ratio < b.cost_ratio || a.shortfall_percent < b.shortfall_percent);
    for (const s of json.settings) expect(s.frontier, s.name).toBe(!json.settings.some((o) => beats(o, s)));
    for (const a of json.anchors) {
      const by = json.settings
        .filter((s) => s.cost_ratio <= a.cost_ratio && s.shortfall_percent <= a.shortfall_percent)
        .map((s) => s.name);
      expect(a.dominated_by, a.name).toEqual(by);
    }
    // From cheapest to safest: headroom 0 runs the fewest dynos, 1 falls short the least, the default in between.
    const at = (h: number) => json.settings.find((s) => s.headroom === h) as Point;
    expect(at(0).cost_ratio).toBeLessThanOrEqual(at(0.2).cost_ratio);
    expect(at(0.2).cost_ratio).toBeLessThanOrEqual(at(1).cost_ratio);
    expect(at(1).shortfall_percent).toBeLessThanOrEqual(at(0.2).shortfall_percent);
    expect(at(0.2).shortfall_percent).toBeLessThanOrEqual(at(0).shortfall_percent);
    // Events are reported for every setting, and the recommendation states them.
    expect(json.recommended.scale_events).toBe(
      json.settings.find((s) => s.name === json.recommended.name)?.scale_events,
    );
  });

  it("--max-shortfall sets the target; an unreachable one recommends the safest setting", async () => {
    const d = dir();
    const loose = tuneJsonSchema.parse(
      JSON.parse(
        (await runCli(["tune", "c.yaml", "--trace", "t.csv", "--json", "--max-shortfall", "100%"], { cwd: d })).stdout,
      ),
    );
    expect(loose.target).toEqual({ max_shortfall_percent: 100, from: "option" });
    expect(loose.recommended).toMatchObject({
      met: true,
      cost_ratio: Math.min(...loose.settings.map((s) => s.cost_ratio)),
    });
    const strict = tuneJsonSchema.parse(
      JSON.parse(
        (
          await runCli(
            ["tune", "c.yaml", "--trace", "t.csv", "--json", "--max-shortfall", "0", "--headrooms", "0,0.5"],
            { cwd: d },
          )
        ).stdout,
      ),
    );
    expect(strict.settings.map((s) => s.headroom)).toEqual([0, 0.5]);
    if (Math.min(...strict.settings.map((s) => s.shortfall_percent)) > 0) {
      expect(strict.recommended).toMatchObject({
        met: false,
        shortfall_percent: Math.min(...strict.settings.map((s) => s.shortfall_percent)),
      });
    }
    const text = await runCli(["tune", "c.yaml", "--trace", "t.csv", "--max-shortfall", "0", "--headrooms", "0,0.5"], {
      cwd: d,
    });
    expect(text.stdout).toMatch(/^No setting reaches shortfall <= 0\.00%; the safest is headroom 0\.5/m);
  });

  it("prints the frontier with the anchors and a recommendation, and draws it", async () => {
    const d = dir();
    const { code, stdout } = await runCli(["tune", "c.yaml", "--trace", "t.csv", "--chart", "f.svg"], { cwd: d });
    expect(code).toBe(0);
    expect(stdout).toContain("Tuned headroom on 120 minutes of t.csv through c.yaml");
    expect(stdout).toMatch(/^ +headroom 0\.2 +\d\.\d{3} +\d+\.\d\d% +.*default/m);
    expect(stdout).toMatch(/^ +seed +\d\.\d{3} +\d+\.\d\d% /m);
    expect(stdout).toMatch(/^ +hpa +\d\.\d{3} +\d+\.\d\d% /m);
    expect(stdout).toMatch(/^ +write it as scaler\.headroom: [\d.]+$/m);
    expect(stdout).toMatch(
      /^Recommended: headroom [\d.]+ \(cost \d\.\d{3}, shortfall \d+\.\d\d%, \d+ scale events \(\d+\/day\)\)/m,
    );
    expect(stdout).toMatch(/^ +headroom 0 +\d\.\d{3} +\d+\.\d\d% +\d+ +\d+/m);
    const svg = readFileSync(join(d, "f.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain(">hysteresis</text>");
    expect((svg.match(/<circle /g) ?? []).length).toBeGreaterThanOrEqual(10);
  });

  it("exits 2 on usage errors, with a hint", async () => {
    const d = dir();
    for (const [argv, message] of [
      [["tune", "c.yaml"], "needs --trace"],
      [["tune", "--trace", "t.csv"], "needs a config file"],
      [
        ["tune", "c.yaml", "--trace", "t.csv", "--max-shortfall", "lots"],
        '--max-shortfall must be a percentage >= 0, e.g. 2 or 0.5, not "lots"',
      ],
      [["tune", "c.yaml", "--trace", "t.csv", "--headrooms", "0,-1"], "--headrooms must be a comma-separated list"],
      [["tune", "c.yaml", "--trace", "t.csv", "--chart", "f.png"], "must end in .svg"],
    ] as const) {
      const { code, stderr } = await runCli([...argv], { cwd: d });
      expect(code, argv.join(" ")).toBe(2);
      expect(stderr).toContain(message);
    }
  });

  it("--help prints the tune usage; dynosaur --help lists the command", async () => {
    expect((await runCli(["tune", "--help"])).stdout).toContain("dynosaur tune <config> --trace <file.csv>");
    expect((await runCli(["--help"])).stdout).toContain("dynosaur tune <config> --trace <file.csv>");
  });
});
