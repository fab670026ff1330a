#!/usr/bin/env node
// A scriptable Matrix client on matrix-js-sdk with its Rust crypto (what Element Web runs), so
// that duet's Go tests can prove end-to-end encryption interoperates with Element's SDK.
//
//   node interop.mjs --homeserver URL --user @u:server --password P [--device-name N]
//
// It logs in with the password (a new device), sets up Rust crypto in memory, starts syncing,
// then reads one JSON command per line on stdin and writes one JSON reply per line on stdout.
// Every reply echoes the command's "id" and has "ok"; a failed command has "error". Commands
// run concurrently (a wait_message does not hold up a send). Everything else, the SDK's log
// included, goes to stderr (level: INTEROP_LOG=debug|info|warn|error|silent, default warn).
//
//   {"id":1,"cmd":"ready"}                       after the first sync, with crypto set up and our
//                                                device keys on the server: {"device_id","user_id"}
//   {"cmd":"create_dm","user":"@b:s"}            an encrypted DM as Element creates it, added to
//                                                m.direct: {"room_id":...}
//   {"cmd":"invites"}                            {"invites":[{"room_id","inviter","is_direct"}]}
//   {"cmd":"join","room":"!r"}                   accepts an invite: {"room_id":...}
//   {"cmd":"send","room":"!r","body":"t"}        m.text (encrypted in an encrypted room):
//                                                {"event_id":...,"encrypted":bool}
//   {"cmd":"wait_message","room":"!r","body":"t","timeout_ms":30000}
//                                                {"sender","event_id","was_encrypted"}
//   {"cmd":"messages","room":"!r"}               {"messages":[{"event_id","sender","body",
//                                                "was_encrypted"} or {..., "undecryptable"}]}
//   {"cmd":"quit"}                               stops the client and exits 0 (so does EOF)
//
// create_dm, join and send wait (timeout_ms, default 30000) until our sync shows us joined to the
// room, so that its state, m.room.encryption included, is known before anything is sent.

import { parseArgs } from "node:util";
import { createInterface } from "node:readline";

// stdout carries replies only: whatever the SDK or the WASM module prints goes to stderr.
const writeReply = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
for (const name of ["log", "info", "debug", "trace", "warn"]) {
    console[name] = console.error;
}

// matrix-js-sdk 43 declares Node >= 22; for what this client does it needs only two things
// that older Node lacks: Promise.withResolvers (Node 22; the machines run Node 20) and, on Node 18 (Debian 12's own
// nodejs package), a global Web Crypto. Both are provided here; the SDK is imported after them.
if (typeof Promise.withResolvers !== "function") {
    Promise.withResolvers = function withResolvers() {
        let resolve, reject;
        const promise = new this((res, rej) => {
            resolve = res;
            reject = rej;
        });
        return { promise, resolve, reject };
    };
}

if (!globalThis.crypto) {
    globalThis.crypto = (await import("node:crypto")).webcrypto;
}

const sdk = await import("matrix-js-sdk");
const { ClientEvent, RoomEvent, MatrixEventEvent, SyncState, Method, Preset, Visibility } = sdk;

const { values: args } = parseArgs({
    options: {
        homeserver: { type: "string" },
        user: { type: "string" },
        password: { type: "string" },
        "device-name": { type: "string", default: "interop (matrix-js-sdk)" },
    },
});
for (const name of ["homeserver", "user", "password"]) {
    if (!args[name]) {
        console.error(`interop: --${name} is required`);
        process.exit(2);
    }
}

const logger = makeLogger(process.env.INTEROP_LOG || "warn");
const log = (...msg) => console.error("interop:", ...msg);

const DEFAULT_TIMEOUT_MS = 30000;

/** @type {import("matrix-js-sdk").MatrixClient | undefined} */
let client;
// Every event seen per room (the SDK updates an event object in place when it is decrypted or a
// local echo gets its ID). Kept here because a limited sync may reset the room's live timeline.
const seen = new Map(); // roomId -> Set<MatrixEvent>
// Pending wait_message checks, run again whenever an event arrives or is decrypted.
const waiters = new Set();

const started = start();
started.catch((err) => log("start failed:", err));

async function start() {
    const baseUrl = args.homeserver.replace(/\/+$/, "");
    const login = await sdk.createClient({ baseUrl, logger }).loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: args.user },
        password: args.password,
        initial_device_display_name: args["device-name"],
    });
    client = sdk.createClient({
        baseUrl,
        userId: login.user_id,
        deviceId: login.device_id,
        accessToken: login.access_token,
        logger,
    });
    await client.initRustCrypto({ useIndexedDB: false });

    client.on(RoomEvent.Timeline, (event, room) => {
        const roomId = room?.roomId ?? event.getRoomId();
        if (!roomId) return;
        if (!seen.has(roomId)) seen.set(roomId, new Set());
        seen.get(roomId).add(event);
        checkWaiters();
    });
    client.on(MatrixEventEvent.Decrypted, () => checkWaiters());
    client.on(RoomEvent.LocalEchoUpdated, () => checkWaiters());

    const prepared = new Promise((resolve, reject) => {
        const onSync = (state, _prev, data) => {
            if (state === SyncState.Prepared || state === SyncState.Syncing) {
                client.off(ClientEvent.Sync, onSync);
                resolve();
            } else if (state === SyncState.Error && !client.isInitialSyncComplete()) {
                log("sync error before the first sync completed:", data?.error);
            }
        };
        client.on(ClientEvent.Sync, onSync);
        client.startClient({ initialSyncLimit: 50 }).catch(reject);
    });
    await prepared;
    await waitOwnKeysUploaded();
    log(`ready as ${login.user_id} device ${login.device_id}`);
    return { deviceId: login.device_id };
}

// The other side can only encrypt to this device once its identity keys and one-time keys are
// on the server; the SDK uploads them in the background after startClient.
async function waitOwnKeysUploaded() {
    const userId = client.getSafeUserId();
    const deviceId = client.getDeviceId();
    await poll(DEFAULT_TIMEOUT_MS, "our device keys to be uploaded", async () => {
        const query = await client.http.authedRequest(Method.Post, "/keys/query", undefined, {
            device_keys: { [userId]: [deviceId] },
        });
        if (!query.device_keys?.[userId]?.[deviceId]?.keys) return false;
        // An empty upload changes nothing and answers with the one-time key counts.
        const upload = await client.http.authedRequest(Method.Post, "/keys/upload", undefined, {});
        return (upload.one_time_key_counts?.signed_curve25519 ?? 0) > 0;
    });
}

async function poll(timeoutMs, what, check) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await check()) return;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(100);
    }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Resolves once our membership in roomId, as the client's sync sees it, is `membership`: the room
// state (m.room.encryption in particular) is then known, so a send is encrypted when it must be.
function waitMembership(roomId, membership, timeoutMs = DEFAULT_TIMEOUT_MS) {
    return poll(timeoutMs, `membership ${membership} in ${roomId} to reach our sync`, async () => {
        return client.getRoom(roomId)?.getMyMembership() === membership;
    });
}

// The messages of a room seen so far, oldest first, one per event ID.
function messages(roomId) {
    const byId = new Map();
    for (const event of seen.get(roomId) ?? []) {
        const eventId = event.getId();
        if (!eventId || !eventId.startsWith("$")) continue; // a local echo not yet sent
        const entry = describe(event);
        if (!entry) continue;
        const previous = byId.get(eventId);
        if (!previous || (previous.undecryptable !== undefined && entry.undecryptable === undefined)) {
            byId.set(eventId, entry);
        }
    }
    return [...byId.values()];
}

function describe(event) {
    const base = { event_id: event.getId(), sender: event.getSender(), was_encrypted: event.isEncrypted() };
    if (event.isDecryptionFailure()) {
        const reason = event.decryptionFailureReason ?? event.getContent()?.body ?? "unknown";
        return { ...base, undecryptable: String(reason) };
    }
    if (event.isEncrypted() && (event.isBeingDecrypted() || !event.getClearContent())) {
        return { ...base, undecryptable: "not decrypted yet" };
    }
    if (event.getType() !== "m.room.message") return undefined;
    const content = event.getContent();
    return { ...base, body: content.body, msgtype: content.msgtype };
}

const shown = (m) => (m.undecryptable !== undefined ? `<undecryptable: ${m.undecryptable}>` : m.body);

function checkWaiters() {
    for (const waiter of waiters) waiter.check();
}

function waitMessage(roomId, body, timeoutMs) {
    return new Promise((resolve, reject) => {
        const waiter = {
            check() {
                const found = messages(roomId).find((m) => m.undecryptable === undefined && m.body === body);
                if (!found) return;
                finish();
                resolve({ sender: found.sender, event_id: found.event_id, was_encrypted: found.was_encrypted });
            },
        };
        // Events also change without an emitted event we listen to (a retried decryption, say).
        const ticker = setInterval(() => waiter.check(), 250);
        const timer = setTimeout(() => {
            finish();
            const bodies = messages(roomId).map(shown);
            reject(
                new Error(
                    `no message ${JSON.stringify(body)} in ${roomId} after ${timeoutMs} ms; ` +
                        `seen: ${JSON.stringify(bodies)}`,
                ),
            );
        }, timeoutMs);
        function finish() {
            waiters.delete(waiter);
            clearInterval(ticker);
            clearTimeout(timer);
        }
        waiters.add(waiter);
        waiter.check();
    });
}

// create_dm: the request Element Web makes for a new encrypted DM (createRoom.ts), then the
// m.direct update (Rooms.setDMRoom), reading the server's current content so that no other
// entry is lost.
async function createDM(userId, timeoutMs) {
    const { room_id: roomId } = await client.createRoom({
        preset: Preset.TrustedPrivateChat,
        visibility: Visibility.Private,
        is_direct: true,
        invite: [userId],
        initial_state: [
            { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
        ],
    });
    const path = `/user/${encodeURIComponent(client.getSafeUserId())}/account_data/m.direct`;
    let direct;
    try {
        direct = await client.http.authedRequest(Method.Get, path);
    } catch (err) {
        if (err?.data?.errcode !== "M_NOT_FOUND" && err?.errcode !== "M_NOT_FOUND") throw err;
    }
    const content = direct && typeof direct === "object" && !Array.isArray(direct) ? { ...direct } : {};
    const rooms = Array.isArray(content[userId]) ? content[userId].filter((r) => r !== roomId) : [];
    content[userId] = [...rooms, roomId];
    await client.setAccountData("m.direct", content);
    await waitMembership(roomId, "join", timeoutMs);
    return { room_id: roomId };
}

function invites() {
    const me = client.getSafeUserId();
    return client
        .getRooms()
        .filter((room) => room.getMyMembership() === "invite")
        .map((room) => {
            const memberEvent = room.currentState.getMember(me)?.events.member;
            return {
                room_id: room.roomId,
                inviter: memberEvent?.getSender() ?? room.getDMInviter() ?? null,
                is_direct: memberEvent?.getContent()?.is_direct === true,
            };
        });
}

async function send(roomId, body, timeoutMs) {
    await waitMembership(roomId, "join", timeoutMs);
    const res = await client.sendMessage(roomId, { msgtype: "m.text", body });
    const encrypted = await client.getCrypto().isEncryptionEnabledInRoom(roomId);
    return { event_id: res.event_id, encrypted };
}

function required(cmd, name) {
    const value = cmd[name];
    if (typeof value !== "string" || value === "") throw new Error(`${cmd.cmd}: "${name}" (a string) is required`);
    return value;
}

async function run(cmd) {
    if (cmd.cmd === "quit") return {};
    const { deviceId } = await started;
    const timeout = Number.isFinite(cmd.timeout_ms) ? cmd.timeout_ms : DEFAULT_TIMEOUT_MS;
    switch (cmd.cmd) {
        case "ready":
            return { device_id: deviceId, user_id: client.getSafeUserId() };
        case "create_dm":
            return await createDM(required(cmd, "user"), timeout);
        case "invites":
            return { invites: invites() };
        case "join": {
            const roomId = required(cmd, "room");
            await client.joinRoom(roomId);
            await waitMembership(roomId, "join", timeout);
            return { room_id: roomId };
        }
        case "send":
            return await send(required(cmd, "room"), required(cmd, "body"), timeout);
        case "wait_message":
            return await waitMessage(required(cmd, "room"), required(cmd, "body"), timeout);
        case "messages":
            return { messages: messages(required(cmd, "room")) };
        default:
            throw new Error(`unknown command ${JSON.stringify(cmd.cmd)}`);
    }
}

let quitting = false;

function quit() {
    if (quitting) return;
    quitting = true;
    try {
        client?.stopClient();
    } catch (err) {
        log("stopping the client:", err);
    }
    // Exit once stdout has been flushed (the reply to quit is in it).
    process.stdout.write("", () => process.exit(0));
}

async function handle(line) {
    let cmd;
    try {
        cmd = JSON.parse(line);
        if (!cmd || typeof cmd !== "object" || Array.isArray(cmd)) throw new Error("a command is a JSON object");
    } catch (err) {
        writeReply({ id: null, ok: false, error: `bad command line: ${err.message}` });
        return;
    }
    try {
        const result = await run(cmd);
        writeReply({ ...result, id: cmd.id ?? null, ok: true });
    } catch (err) {
        writeReply({ id: cmd.id ?? null, ok: false, error: errorText(err) });
    }
    if (cmd.cmd === "quit") quit();
}

function errorText(err) {
    if (err instanceof Error) {
        const code = err.errcode ?? err.data?.errcode;
        return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
    }
    return String(err);
}

// A background failure inside the SDK must not end the process: commands report their own.
process.on("unhandledRejection", (err) => log("unhandled rejection:", err));
process.on("uncaughtException", (err) => log("uncaught exception:", err));

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on("line", (line) => {
    if (line.trim() !== "") handle(line);
});
input.on("close", quit);

// A logger for the SDK (and the Rust crypto, which logs through it) that writes to stderr.
function makeLogger(level) {
    const levels = ["trace", "debug", "info", "warn", "error"];
    const min = level === "silent" ? levels.length : Math.max(0, levels.indexOf(level));
    const make = (prefix) => {
        const out = { getChild: (ns) => make(prefix ? `${prefix}:${ns}` : ns) };
        levels.forEach((name, i) => {
            out[name] = i < min ? () => {} : (...msg) => console.error(`[${name}]`, prefix ? `${prefix}:` : "", ...msg);
        });
        out.log = out.debug;
        return out;
    };
    return make("");
}
