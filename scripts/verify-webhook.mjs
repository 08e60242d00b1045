// Verifies webhook notifications with the reference Standard Webhooks library, independent of
// the handler's own signing code. Reads JSON from stdin:
//   {"checks": [{"secret": "whsec_…", "headers": {"webhook-id": …, "webhook-timestamp": …,
//                "webhook-signature": …}, "body": "<base64 of the raw body>"}, …]}
// and writes {"results": [{"ok": true} | {"ok": false, "error": "…"}, …]} in the same order.
// Exit status 0 when the input was read, whatever the results; 2 on unusable input.
import { Webhook } from "standardwebhooks";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;

let checks;
try {
  ({ checks } = JSON.parse(input));
  if (!Array.isArray(checks)) throw new Error("checks must be an array");
} catch (err) {
  console.error(`verify-webhook: ${err.message}`);
  process.exit(2);
}

const results = checks.map(({ secret, headers, body }) => {
  try {
    new Webhook(secret).verify(Buffer.from(body, "base64"), headers);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: String(err.message ?? err) };
  }
});
process.stdout.write(JSON.stringify({ results }) + "\n");
