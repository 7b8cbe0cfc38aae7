import { describe, expect, it } from "vitest";
import { plainLabel } from "../src/field-labels.js";

describe("the Advanced form's labels", () => {
  it("say a key in words with the key beside, and a list's entry with its path rather than use-1", () => {
    expect(plainLabel("min_dynos")).toEqual({ words: "Fewest dynos", key: "min_dynos" });
    expect(plainLabel("use-1")).toEqual({ words: "Package 1", key: "use[0]" });
    expect(plainLabel("plugins-3")).toEqual({ words: "Source 3", key: "plugins[2]" });
    // A key not in the list: its words from the key itself.
    expect(plainLabel("scale_up_step")).toEqual({ words: "Scale up step", key: "scale_up_step" });
    expect(plainLabel("region")).toEqual({ words: "Region", key: "region" });
    expect(plainLabel("paths-2")).toEqual({ words: "Paths: entry 2", key: "paths[1]" });
  });

  it("leaves a heading the pages wrote as it is", () => {
    expect(plainLabel("Source 2: type")).toBeNull();
  });
});
