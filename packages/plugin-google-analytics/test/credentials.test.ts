import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { DynosaurError } from "@dynosaur/core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { loadServiceAccount, normalizePem } from "../src/service-account.js";
import { CLIENT_EMAIL, KEY, keyFragments, NEVER, startWorld, type World } from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const dir = mkdtempSync(join(tmpdir(), "dynosaur-ga-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const serviceAccountJson = {
  type: "service_account",
  project_id: "acme-web",
  private_key_id: "0123456789abcdef",
  private_key: KEY.pem,
  client_email: CLIENT_EMAIL,
  token_uri: "https://oauth2.googleapis.com/token",
};

/** The config error `create` throws, checked to be free of key material. */
async function configError(w: World, overrides: Record<string, unknown>): Promise<DynosaurError> {
  const error = await w.create(overrides).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DynosaurError);
  const e = error as DynosaurError;
  expect(e.code).toBe("DYNO_CONFIG_INVALID");
  expect(e.exitCode).toBe(2);
  for (const fragment of keyFragments()) expect(`${e.format()}\n${JSON.stringify(e)}`).not.toContain(fragment);
  return e;
}

describe("keys as environment variables deliver them", () => {
  it("accepts a key whose newlines arrive as \\n", async () => {
    world = await startWorld();
    const escaped = KEY.pem.replace(/\n/g, "\\n");
    expect(escaped).not.toContain("\n");

    const instance = await world.create({ key: escaped });

    // The token fake verifies the assertion's signature: the rebuilt key must be the same key.
    expect(await instance.retrieve(NEVER)).toBe(312);
    expect(world.oauth.requests).toEqual([{ status: 200, clientEmail: CLIENT_EMAIL }]);
  });

  it("accepts a key whose newlines arrive as |", async () => {
    world = await startWorld();
    const piped = KEY.pem.trim().replace(/\n/g, "|");

    const instance = await world.create({ key: piped });

    expect(await instance.retrieve(NEVER)).toBe(312);
  });

  it("rebuilds keys flattened to spaces, CRLF or quoted", () => {
    const canonical = normalizePem(KEY.pem);
    expect(canonical).toBeDefined();
    expect(normalizePem(KEY.pem.replace(/\n/g, " "))).toBe(canonical);
    expect(normalizePem(KEY.pem.replace(/\n/g, "\r\n"))).toBe(canonical);
    expect(normalizePem(`"${KEY.pem.replace(/\n/g, "\\n")}"`)).toBe(canonical);
  });
});

describe("a bad key fails in create, before any network call", () => {
  const body = KEY.pem.split("\n").slice(1, -2).join("\n");
  const cases: [string, string, RegExp][] = [
    ["garbage", "not a key at all", /key is not a PEM private key/],
    [
      "a corrupted body",
      `-----BEGIN PRIVATE KEY-----\n${body.slice(0, 200)}AAAA${body.slice(260)}\n-----END PRIVATE KEY-----\n`,
      /does not parse/,
    ],
    [
      "a truncated key",
      `-----BEGIN PRIVATE KEY-----\n${body.slice(0, 300)}\n-----END PRIVATE KEY-----`,
      /does not parse/,
    ],
    [
      "a public key",
      KEY.publicKey.export({ type: "spki", format: "pem" }) as string,
      /is a PEM public key, not a private key/,
    ],
    [
      "an EC key",
      generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      /is an ec key; Google service-account keys are RSA/,
    ],
    ["a whole JSON key file", JSON.stringify(serviceAccountJson), /looks like a whole JSON key file/],
  ];
  for (const [name, key, message] of cases) {
    it(`refuses ${name}`, async () => {
      world = await startWorld();
      const error = await configError(world, { key });
      expect(error.path).toBe("key");
      expect(error.message).toMatch(message);
      expect(error.hint).toBeTruthy();
      expect(world.http.calls).toEqual([]);
      expect(world.oauth.requests).toEqual([]);
    });
  }

  it("requires client_email with key", async () => {
    world = await startWorld();
    const error = await configError(world, { client_email: undefined });
    expect(error.path).toBe("client_email");
  });

  it("requires a key or a key_file", async () => {
    world = await startWorld();
    const error = await configError(world, { key: undefined });
    expect(error.path).toBe("key");
    expect(error.hint).toMatch(/key_file/);
  });
});

describe("key_file", () => {
  it("reads the service account's JSON key file", async () => {
    world = await startWorld();
    const instance = await world.create({
      key: undefined,
      client_email: undefined,
      key_file: keyFile("sa.json", serviceAccountJson),
    });

    expect(await instance.retrieve(NEVER)).toBe(312);
    expect(world.oauth.requests).toEqual([{ status: 200, clientEmail: CLIENT_EMAIL }]);
  });

  it("resolves a relative path from the process's working directory", async () => {
    world = await startWorld();
    const fromCwd = relative(process.cwd(), keyFile("relative.json", serviceAccountJson));
    expect(fromCwd.startsWith("/")).toBe(false);

    const instance = await world.create({ key: undefined, client_email: undefined, key_file: fromCwd });

    expect(await instance.retrieve(NEVER)).toBe(312);
    expect(loadServiceAccount({ key_file: "relative.json" }, dir).clientEmail).toBe(CLIENT_EMAIL);
  });

  it("says where it looked for a missing file", async () => {
    world = await startWorld();
    const error = await configError(world, { key: undefined, client_email: undefined, key_file: "missing/sa.json" });
    expect(error.path).toBe("key_file");
    expect(error.message).toContain(join(process.cwd(), "missing/sa.json"));
    expect(error.hint).toContain(process.cwd());
  });

  it("does not quote a broken file (it holds the key)", async () => {
    world = await startWorld();
    const broken = JSON.stringify(serviceAccountJson).replace('"client_email"', "client_email");
    const error = await configError(world, {
      key: undefined,
      client_email: undefined,
      key_file: keyFile("broken.json", broken),
    });
    expect(error.message).toMatch(/is not valid JSON$/);
  });

  it("refuses credentials that are not a service account's", async () => {
    world = await startWorld();
    const user = { type: "authorized_user", client_id: "x", client_secret: "y", refresh_token: "z" };
    const error = await configError(world, {
      key: undefined,
      client_email: undefined,
      key_file: keyFile("user.json", user),
    });
    expect(error.message).toContain('"authorized_user" credential, not a service-account key');
  });

  it("refuses a bad key inside the file", async () => {
    world = await startWorld();
    const file = keyFile("badkey.json", {
      ...serviceAccountJson,
      private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    });
    const error = await configError(world, { key: undefined, client_email: undefined, key_file: file });
    expect(error.path).toBe("key_file");
    expect(world.http.calls).toEqual([]);
  });

  it("refuses key and key_file together, and a client_email that is not the file's", async () => {
    world = await startWorld();
    const file = keyFile("both.json", serviceAccountJson);
    expect((await configError(world, { key_file: file })).path).toBe("key_file");
    expect(
      (await configError(world, { key: undefined, client_email: "other@x.iam.gserviceaccount.com", key_file: file }))
        .path,
    ).toBe("client_email");
  });
});
