// A browser client of Parley calls, written from docs/protocol.md (§ Rooms, Invitations,
// WebRTC relay, Peer links). It answers the first call it is invited to, with the
// browser's camera and microphone (Chromium's fake devices in the tests), and tells the
// test page server what happens: POST /report {what, data}. GET /command asks the test
// what to do next: "close" (pc.close(), as a page dropping its connection would) or
// "leave" (everything closed, the socket disconnected, as a tab closing).
"use strict";

const params = new URLSearchParams(location.search);
const me = params.get("me");
const report = (what, data) =>
  fetch("/report", { method: "POST", body: JSON.stringify({ what, data }) });
window.onerror = (message) => report("error", String(message));
window.onunhandledrejection = (event) => report("error", String(event.reason));

const socket = io(params.get("server"), {
  auth: { token: params.get("token") },
  transports: ["websocket"],
  reconnection: false,
});
let iceServers = [];
let roomId = null;
let local = null;
let linksMade = 0;
const links = new Map(); // peer id -> {pc, session, generation, pending, made}

const send = (to, kind, payload) =>
  socket.emitWithAck("rtc.signal", { room_id: roomId, to, kind, payload });

socket.on("connect_error", (error) => report("refused", error.message));
socket.on("session.welcome", (welcome) => {
  iceServers = welcome.ice_servers;
  report("ready", { user: welcome.user.user_id });
});

socket.on("invitation.received", async (invitation) => {
  const accepted = await socket.emitWithAck("invitation.accept", {
    invitation_id: invitation.invitation_id,
  });
  if (!accepted.ok) return report("error", accepted);
  roomId = accepted.call_id;
  local = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const joined = await socket.emitWithAck("room.join", {
    room_id: roomId, kind: "call", microphone: true, camera: true,
  });
  if (!joined.ok) return report("error", joined);
  report("joined", { members: joined.room.members.map((m) => m.user_id) });
  for (const member of joined.room.members) {
    if (member.user_id !== me && me < member.user_id) await offer(member.user_id);
  }
});

socket.on("room.user_entered", async (entered) => {
  const peer = entered.member.user_id;
  if (peer !== me && me < peer) await offer(peer);
});

function newLink(peer, session, generation) {
  const pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
  linksMade += 1;
  const link = { pc, session, generation, pending: [], made: linksMade, sending: new Set() };
  pc.onicecandidate = (event) => {
    if (event.candidate) send(peer, "candidate", event.candidate.toJSON());
  };
  links.set(peer, link);
  return link;
}

function addLocalTracks(link) {
  for (const track of local.getTracks()) {
    if (!link.sending.has(track.kind)) {
      link.pc.addTrack(track, local);
      link.sending.add(track.kind);
    }
  }
}

// The smaller user ID offers (code-point order): here, the browser.
async function offer(peer) {
  const link = newLink(peer, "web-" + Math.random().toString(36).slice(2), 0);
  addLocalTracks(link);
  await link.pc.setLocalDescription(await link.pc.createOffer());
  await send(peer, "offer", {
    type: "offer", sdp: link.pc.localDescription.sdp,
    session: link.session, generation: link.generation,
  });
}

socket.on("rtc.signal", async ({ sender, kind, payload }) => {
  let link = links.get(sender);
  if (kind === "offer") {
    const session = payload.session ?? null;
    const generation = payload.generation ?? null;
    // A new session or generation is a new connection: close the old, answer anew.
    if (!link || link.session !== session || link.generation !== generation) {
      if (link) link.pc.close();
      link = newLink(sender, session, generation);
    }
    await link.pc.setRemoteDescription({ type: "offer", sdp: payload.sdp });
    addLocalTracks(link);
    await flush(link);
    await link.pc.setLocalDescription(await link.pc.createAnswer());
    await send(sender, "answer", {
      type: "answer", sdp: link.pc.localDescription.sdp, session, generation,
    });
  } else if (kind === "answer") {
    if (!link || (payload.generation ?? null) !== link.generation) return; // stale
    await link.pc.setRemoteDescription({ type: "answer", sdp: payload.sdp });
    await flush(link);
  } else if (kind === "candidate") {
    if (!link || !link.pc.remoteDescription) {
      // Before the description it belongs to: held, applied after it.
      (link ?? newPending(sender)).pending.push(payload);
    } else {
      await link.pc.addIceCandidate(payload);
    }
  } else if (kind === "renegotiate" && me < sender) {
    // "restart", or no connection left: a new one (new session); else a new offer.
    if (!link || payload.reason === "restart") {
      if (link) link.pc.close();
      return offer(sender);
    }
    await link.pc.setLocalDescription(await link.pc.createOffer());
    await send(sender, "offer", {
      type: "offer", sdp: link.pc.localDescription.sdp,
      session: link.session, generation: link.generation,
    });
  }
});

const held = new Map();
function newPending(peer) {
  if (!held.has(peer)) held.set(peer, { pending: [] });
  return held.get(peer);
}

async function flush(link) {
  for (const [peer, waiting] of held) {
    if (links.get(peer) === link) {
      link.pending.push(...waiting.pending);
      held.delete(peer);
    }
  }
  for (const candidate of link.pending.splice(0)) await link.pc.addIceCandidate(candidate);
}

// What the browser receives, twice a second, per current connection.
setInterval(async () => {
  for (const [peer, link] of links) {
    let audioPackets = 0, videoFrames = 0, sentBytes = 0;
    (await link.pc.getStats()).forEach((stat) => {
      // Packets, not bytes: a synthetic microphone's silence is a few bytes a packet.
      if (stat.type === "inbound-rtp" && stat.kind === "audio") audioPackets += stat.packetsReceived;
      if (stat.type === "inbound-rtp" && stat.kind === "video") videoFrames += stat.framesDecoded;
      if (stat.type === "outbound-rtp") sentBytes += stat.bytesSent;
    });
    report("media", {
      peer, link: link.made, state: link.pc.connectionState,
      audio_packets: audioPackets, video_frames: videoFrames, sent_bytes: sentBytes,
    });
  }
}, 500);

setInterval(async () => {
  const { command } = await (await fetch("/command")).json();
  if (command === "close") {
    for (const [peer, link] of links) {
      link.pc.close();
      links.delete(peer);
    }
    report("closed", {});
  } else if (command === "leave") {
    // As a tab closing: connections closed, the socket disconnected cleanly.
    for (const link of links.values()) link.pc.close();
    links.clear();
    socket.disconnect();
    report("left", {});
  }
}, 200);
