import { logplexFrame } from "../src/index.js";

/** Real-format drain lines, as Heroku's router and an app write them. */
export const ROUTER_1 = (dyno: string, service: number, status = 200) =>
  `at=info method=GET path="/products?page=2" host=shop.herokuapp.com request_id=8601b555-6a83-4c12-8269-97c8e32cdb22 fwd="204.204.204.204" dyno=${dyno} connect=1ms service=${service}ms status=${status} bytes=1043 protocol=https`;

export const ROUTER_2 = (dyno: string, service: number) =>
  `at=info method=POST path="/cart" host=shop.example.com request_id=2c0b7d6e-63c5-4b86-9c8a-5e1b2a3f4d5c fwd="10.1.2.3" dyno=${dyno} connect=2ms service=${service}ms status=201 bytes=88 protocol=http2.0 tls=true tls_version=tls1.3`;

export const H12 = (dyno: string) =>
  `at=error code=H12 desc="Request timeout" method=GET path="/slow" host=shop.herokuapp.com request_id=a3c2f1d0-0000-4000-8000-000000000001 fwd="204.204.204.204" dyno=${dyno} connect=3ms service=30000ms status=503 bytes=0 protocol=https`;

export const H10 = `at=error code=H10 desc="App crashed" method=GET path="/" host=shop.herokuapp.com request_id=a3c2f1d0-0000-4000-8000-000000000002 fwd="204.204.204.204" dyno= connect= service= status=503 bytes= protocol=https`;

export const router = (text: string, timestamp = "2026-12-07T04:00:00.123456+00:00") =>
  logplexFrame({ appName: "heroku", procId: "router", text, timestamp });

export const app = (dyno: string, text: string) =>
  logplexFrame({ appName: "app", procId: dyno, text, priority: 190, timestamp: "2026-12-07T04:00:00.5+00:00" });

export const heroku = (dyno: string, text: string) =>
  logplexFrame({ appName: "heroku", procId: dyno, text, priority: 45, timestamp: "2026-12-07T04:00:00+00:00" });

/** A body of frames, as Logplex POSTs it. */
export const body = (...frames: string[]) => new TextEncoder().encode(frames.join(""));
