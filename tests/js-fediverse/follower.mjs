// An independent ActivityPub follower built on Fedify, for feedsvc's tests (loopback only).
//
//   node follower.mjs PORT
//
// Serves one actor, /users/reader, whose inbox Fedify guards: a listener below runs only for a
// request whose HTTP Signature Fedify verified against the sender's key (fetched from the
// sender). Each verified activity is printed as one JSON line on stdout. Commands on stdin:
//   follow URL    look the actor up (Fedify parses and validates it) and send it a signed Follow
//   unfollow URL  send Undo(Follow)
//   lookup URL    fetch and parse any object; print its type and JSON-LD
import "./node20.mjs";
import http from "node:http";
import readline from "node:readline";
import {
  Accept, Announce, Create, Delete, Endpoints, Follow, MemoryKvStore, Person, Undo, Update,
  createFederation, generateCryptoKeyPair,
} from "@fedify/fedify";

const port = Number(process.argv[2]);
const origin = `http://127.0.0.1:${port}`;
const say = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const keys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");

const federation = createFederation({ kv: new MemoryKvStore(), allowPrivateAddress: true });
federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== "reader") return null;
    const [key] = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "A test reader",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: key.cryptographicKey,
    });
  })
  .setKeyPairsDispatcher(async () => [keys]);

const report = (kind) => async (ctx, activity) => {
  const object = await activity.getObject().catch((e) => ({ error: String(e) }));
  say({
    event: kind,
    id: activity.id?.href,
    actor: activity.actorId?.href,
    object: object?.id?.href ?? null,
    objectType: object?.constructor?.name ?? null,
    content: object?.content?.toString() ?? null,
    url: object?.url?.href ?? null,
    updated: object?.updated?.toString() ?? null,
  });
};
federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Accept, report("Accept"))
  .on(Create, report("Create"))
  .on(Update, report("Update"))
  .on(Delete, report("Delete"))
  .on(Announce, report("Announce"));

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = chunks.length ? Buffer.concat(chunks) : undefined;
  const request = new Request(origin + req.url, {
    method: req.method, headers: req.headers, body: req.method === "GET" ? undefined : body,
  });
  const response = await federation.fetch(request, { contextData: undefined });
  if (req.method === "POST") say({ event: "inbox-status", status: response.status });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
});
server.listen(port, "127.0.0.1", () => say({ event: "ready", actor: `${origin}/users/reader` }));

let follows = 0;
const ctx = () => federation.createContext(new URL(origin), undefined);
readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const [command, url] = line.trim().split(/\s+/);
  try {
    const c = ctx();
    const target = await c.lookupObject(url);
    if (target == null) throw new Error(`cannot look up ${url}`);
    if (command === "lookup") {
      say({ event: "lookup", type: target.constructor.name, json: await target.toJsonLd() });
      return;
    }
    const follow = new Follow({
      id: new URL(`${origin}/follows/${++follows}`),
      actor: c.getActorUri("reader"),
      object: target.id,
    });
    const activity = command === "follow" ? follow : new Undo({
      id: new URL(`${origin}/undo/${follows}`), actor: c.getActorUri("reader"), object: follow,
    });
    await c.sendActivity({ identifier: "reader" }, target, activity, { immediate: true });
    say({ event: `sent-${command}`, to: target.id.href });
  } catch (error) {
    say({ event: "error", command, message: String(error?.stack ?? error) });
  }
});
