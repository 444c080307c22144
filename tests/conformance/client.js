// A Parley client in JavaScript, written from docs/protocol.md alone.
// Usage: node client.js <server-url> <token>
// Prints one JSON object per line: what it saw and what it answered.
import { io } from "socket.io-client";

const [url, token] = process.argv.slice(2);
const print = (what, data) => console.log(JSON.stringify({ what, data }));

const socket = io(url, { auth: { token }, transports: ["websocket"], reconnection: false });

socket.on("connect_error", (err) => {
  print("refused", err.message);
  process.exit(2);
});

socket.on("session.welcome", async (welcome) => {
  const online = await socket.emitWithAck("presence.list", {});
  print("ready", { user: welcome.user, online: online.users.map((u) => u.user_id) });
});

socket.on("invitation.received", async (invitation) => {
  print("invitation", invitation);
  const bad = await socket.emitWithAck("invitation.accept", { invitation_id: 42 });
  print("bad-accept", bad);
  const answer = await socket.emitWithAck("invitation.accept", {
    invitation_id: invitation.invitation_id,
    custom_data: "from node",
  });
  print("accepted", answer);
  const joined = await socket.emitWithAck("room.join", { room_id: answer.call_id, kind: "call" });
  print("joined", joined);
  socket.disconnect();
  process.exit(0);
});

setTimeout(() => {
  print("timeout", null);
  process.exit(3);
}, 15000);
