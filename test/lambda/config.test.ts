import { describe, expect, it } from "vitest";
import { ConfigError, readConfig } from "../../src/config/config.js";

describe("readConfig", () => {
  it("reads the SDK's endpoint variables and defaults the rest", () => {
    const config = readConfig({
      TABLE_NAME: "catalog",
      AWS_REGION: "eu-west-1",
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:4569",
      AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:4567",
    });
    expect(config).toEqual({
      tableName: "catalog",
      region: "eu-west-1",
      s3Endpoint: "http://127.0.0.1:4569",
      dynamodbEndpoint: "http://127.0.0.1:4567",
      s3ForcePathStyle: true,
      concurrency: 8,
      serviceName: "s3-metadata-catalog",
      metricsNamespace: "S3MetadataCatalog",
      derivedPrefix: "_derived/",
      thumbnails: true,
    });
  });

  it("POWERTOOLS_LOG_LEVEL, which the handler's logger applies under Lambda's own level", () => {
    expect(readConfig({ TABLE_NAME: "t", POWERTOOLS_LOG_LEVEL: "WARN" }).logLevel).toBe("WARN");
    expect(readConfig({ TABLE_NAME: "t" }).logLevel).toBeUndefined();
  });

  it("DERIVED_PREFIX and THUMBNAILS", () => {
    const config = readConfig({ TABLE_NAME: "t", DERIVED_PREFIX: "art/derived/", THUMBNAILS: "false" });
    expect(config.derivedPrefix).toBe("art/derived/");
    expect(config.thumbnails).toBe(false);
  });

  it("real AWS: no endpoints, virtual-hosted S3", () => {
    const config = readConfig({
      TABLE_NAME: "catalog",
      CONCURRENCY: "16",
      TOMBSTONE_TTL_DAYS: "30",
      POLICY: "{}",
    });
    expect(config.s3Endpoint).toBeUndefined();
    expect(config.s3ForcePathStyle).toBe(false);
    expect(config.concurrency).toBe(16);
    expect(config.tombstoneTtlSeconds).toBe(30 * 86_400);
    expect(config.policyJson).toBe("{}");
  });

  it("AWS_ENDPOINT_URL applies to both services unless a service-specific one is set", () => {
    const config = readConfig({
      TABLE_NAME: "t",
      AWS_ENDPOINT_URL: "http://localhost:4566",
      AWS_ENDPOINT_URL_S3: "http://localhost:9000",
    });
    expect(config.s3Endpoint).toBe("http://localhost:9000");
    expect(config.dynamodbEndpoint).toBe("http://localhost:4566");
  });

  it.each([
    [{}, /TABLE_NAME/],
    [{ TABLE_NAME: "t", CONCURRENCY: "0" }, /CONCURRENCY/],
    [{ TABLE_NAME: "t", CONCURRENCY: "many" }, /CONCURRENCY/],
    [{ TABLE_NAME: "t", AWS_ENDPOINT_URL_S3: "localhost:9000" }, /AWS_ENDPOINT_URL_S3/],
    [{ TABLE_NAME: "t", POLICY: "{}", POLICY_FILE: "p.json" }, /not both/],
    [{ TABLE_NAME: "t", S3_FORCE_PATH_STYLE: "maybe" }, /S3_FORCE_PATH_STYLE/],
    // Without the slash, "_derivedphoto.jpg" would count as derived and never be cataloged.
    [{ TABLE_NAME: "t", DERIVED_PREFIX: "_derived" }, /DERIVED_PREFIX/],
    [{ TABLE_NAME: "t", DERIVED_PREFIX: "/" }, /DERIVED_PREFIX/],
    [{ TABLE_NAME: "t", THUMBNAILS: "sometimes" }, /THUMBNAILS/],
  ])("rejects %j", (env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });
});
