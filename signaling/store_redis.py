"""The store several server processes share: Redis, with :class:`MemoryStore`'s transitions.

Every method is one optimistic transaction: read the keys it needs, load them into a
:class:`StoreState`, run :class:`MemoryStore`'s own method on that partial state, and
commit what changed with one Lua script (:data:`_COMMIT`) that first checks that every
key read still holds what was read (a digest of it) and otherwise writes nothing, in
which case the method runs again on fresh state. So a transition is checked and
applied as one step across all servers, and there is one implementation of each rule
(the script only compares and writes; it knows none of them). The keys are read a level
at a time, so a method may see one before and another after a change made meanwhile:
its answer, a refusal or a failure, counts only if nothing it read has changed (a commit
with no writes says so); otherwise it runs again. A method whose loader misses a key it
then writes fails loudly (:class:`StoreBugError`) instead of overwriting another
server's data unread.

(WATCH/MULTI/EXEC did the same at two round trips per level read and a connection held
for the whole transition; the script costs one round trip per level and one to commit.
It names the keys it writes in ARGV: one Redis, or a primary with replicas, not Redis
Cluster.)

Keys (all under ``prefix``): ``session:U``, ``room:R``, ``member_rooms:U``,
``invitation:I``, ``user_invitations:U`` hold JSON; ``ended:R`` marks a call everyone
left (for :data:`ENDED_CALL_TTL_S`); sets ``online``, ``rooms``, ``unjoined``,
``invitations``, ``call_invitations:R`` and ``server_sessions:S`` index them;
``presence`` is the hash of announced presence; ``servers`` the hash of live server
processes (heartbeats); ``timers`` (a sorted set by due time) and ``timer_args`` the
timers; ``revoked:J`` and ``revoked_up_to:U`` the signed-out tokens.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import TypeAdapter
from redis.asyncio import Redis

from signaling.enums import InvitationUserState, PresenceState
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import MAX_HISTORY
from signaling.seat_ops import Join, Operation
from signaling.seats import Outcome
from signaling.store import (
    CallOptions,
    Invitation,
    Invitee,
    Member,
    MemoryStore,
    Message,
    Room,
    Session,
    SetPropertyResult,
    StoreState,
)

T = TypeVar("T")

#: How long a call everyone left is remembered (a late join is told it ended).
ENDED_CALL_TTL_S = 24 * 3600
#: How often one transition is tried again after other servers changed its keys.
MAX_ATTEMPTS = 200

_SESSION = TypeAdapter(Session)
_ROOM = TypeAdapter(Room)
_INVITATION = TypeAdapter(Invitation)

# Compare-and-set of announced presence, user and entry ('' for offline) pairs in ARGV:
# returns the users whose entry changed.
_ANNOUNCE = """
local changed = {}
for i = 1, #ARGV, 2 do
  local user, entry = ARGV[i], ARGV[i + 1]
  if entry == '' then
    if redis.call('HDEL', KEYS[1], user) == 1 then changed[#changed + 1] = user end
  elseif redis.call('HGET', KEYS[1], user) ~= entry then
    redis.call('HSET', KEYS[1], user, entry)
    changed[#changed + 1] = user
  end
end
return changed
"""
# Raise a number, never lower it (signed out everywhere up to a time).
_RAISE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 0
"""
# One transition's commit: if every key read still has the value read (SHA-1 of it, ''
# for absent; a set, of its sorted members joined by newlines), make the writes and
# return 1; else change nothing and return 0. So a transition is checked and applied as
# one step however many servers run transitions on the same keys. ARGV: the number of
# plain keys read, of sets read, their digests (KEYS in the same order), then writes:
# S key value | X key value seconds | D key | A set member | R set member.
_COMMIT = """
local plain, sets = tonumber(ARGV[1]), tonumber(ARGV[2])
local a = 3
for i = 1, plain do
  local value = redis.call('GET', KEYS[i])
  local digest = ''
  if value then digest = redis.sha1hex(value) end
  if digest ~= ARGV[a] then return 0 end
  a = a + 1
end
for i = plain + 1, plain + sets do
  local members = redis.call('SMEMBERS', KEYS[i])
  table.sort(members)
  if redis.sha1hex(table.concat(members, '\\n')) ~= ARGV[a] then return 0 end
  a = a + 1
end
while a <= #ARGV do
  local op, key = ARGV[a], ARGV[a + 1]
  if op == 'S' then
    redis.call('SET', key, ARGV[a + 2]); a = a + 3
  elseif op == 'X' then
    redis.call('SET', key, ARGV[a + 2], 'EX', ARGV[a + 3]); a = a + 4
  elseif op == 'D' then
    redis.call('DEL', key); a = a + 2
  elseif op == 'A' then
    redis.call('SADD', key, ARGV[a + 2]); a = a + 3
  elseif op == 'R' then
    redis.call('SREM', key, ARGV[a + 2]); a = a + 3
  else
    return redis.error_reply('unknown write ' .. op)
  end
end
return 1
"""
# Take the due timers (sorted set KEYS[1] by due time, arguments in hash KEYS[2]) in one
# step, so two servers polling at once never both get one: name, arguments, name, ...
_CLAIM = """
local names = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {}
for _, name in ipairs(names) do
  redis.call('ZREM', KEYS[1], name)
  out[#out + 1] = name
  out[#out + 1] = redis.call('HGET', KEYS[2], name) or '{}'
  redis.call('HDEL', KEYS[2], name)
end
return out
"""
# A token lives at most this long; "signed out everywhere" need not outlive them.
_REVOKE_USER_TTL_S = 400 * 24 * 3600


class StoreBugError(RuntimeError):
    """A transition wrote a key its loader did not read (a programming error)."""


def _bytes(value: bytes | str) -> bytes:
    """A reply as bytes, whether or not the client decodes responses."""
    return value.encode() if isinstance(value, str) else value


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _decode_room(raw: bytes) -> Room:
    room = _ROOM.validate_json(raw)
    room.messages = deque(room.messages, maxlen=MAX_HISTORY)
    return room


def _ids(raw: bytes | None) -> set[str]:
    return set(json.loads(raw)) if raw else set()


def _encode_ids(ids: set[str]) -> bytes:
    return json.dumps(sorted(ids)).encode()


def _decode_session(state: StoreState, name: str, raw: bytes) -> None:
    state.sessions[name] = _SESSION.validate_json(raw)


def _decode_room_into(state: StoreState, name: str, raw: bytes) -> None:
    state.rooms[name] = _decode_room(raw)


def _decode_member_rooms(state: StoreState, name: str, raw: bytes) -> None:
    state.member_rooms[name] = _ids(raw)


def _decode_invitation(state: StoreState, name: str, raw: bytes) -> None:
    state.invitations[name] = _INVITATION.validate_json(raw)


def _decode_user_invitations(state: StoreState, name: str, raw: bytes) -> None:
    state.user_invitations[name] = _ids(raw)


def _decode_ended(state: StoreState, name: str, raw: bytes) -> None:
    state.ended_calls[name] = None


# How each kind of key goes into a StoreState.
_DECODERS: dict[str, Callable[[StoreState, str, bytes], None]] = {
    "session": _decode_session,
    "room": _decode_room_into,
    "member_rooms": _decode_member_rooms,
    "invitation": _decode_invitation,
    "user_invitations": _decode_user_invitations,
    "ended": _decode_ended,
}


class _Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.online = f"{prefix}online"
        self.rooms = f"{prefix}rooms"
        self.unjoined = f"{prefix}unjoined"
        self.invitations = f"{prefix}invitations"
        self.presence = f"{prefix}presence"
        self.servers = f"{prefix}servers"
        self.epoch = f"{prefix}epoch"
        self.timers = f"{prefix}timers"
        self.timer_args = f"{prefix}timer_args"

    def of(self, kind: str, name: str) -> str:
        return f"{self.prefix}{kind}:{name}"


Wanted = tuple[str, str]


class _Transaction:
    """One attempt: what was read, the partial state, and the writes to commit.

    Loaders ask for keys a level at a time (:meth:`fetch`): the keys of one level are read
    with one MGET, so a transition costs a round trip per level, not one per key.
    """

    def __init__(self, redis: Redis, keys: _Keys) -> None:
        self.redis = redis
        self.keys = keys
        self.state = StoreState()
        # kind -> name -> raw value as read (None: absent)
        self.read: dict[str, dict[str, bytes | None]] = {kind: {} for kind in _DECODERS}
        # set key -> its members as read (sorted)
        self.sets_read: dict[str, list[str]] = {}
        self.ops = _Writes()

    async def fetch(self, *wanted: Wanted) -> None:
        """Read the ``(kind, name)`` keys not read yet (one MGET), into the state."""
        todo = [(k, n) for k, n in dict.fromkeys(wanted) if n not in self.read[k]]
        if not todo:
            return
        keys = [self.keys.of(kind, name) for kind, name in todo]
        values = await self.redis.mget(keys)
        for (kind, name), raw in zip(todo, values, strict=True):
            value = None if raw is None else _bytes(raw)
            self.read[kind][name] = value
            if value is not None:
                _DECODERS[kind](self.state, name, value)

    async def call_invitations(self, call_id: str) -> None:
        """The invitations into ``call_id`` (``drop_room_if_empty`` looks at them)."""
        key = self.keys.of("call_invitations", call_id)
        ids = sorted(_text(i) for i in await self.redis.smembers(key))
        self.sets_read[key] = ids
        await self.fetch(*(("invitation", i) for i in ids))

    def commit_args(self) -> tuple[list[str], list[str | bytes]]:
        """KEYS and ARGV of :data:`_COMMIT`: what was read, as digests, then the writes."""
        read = [
            (self.keys.of(kind, name), raw)
            for kind, seen in self.read.items()
            for name, raw in seen.items()
        ]
        keys = [key for key, _ in read] + list(self.sets_read)
        args: list[str | bytes] = [str(len(read)), str(len(self.sets_read))]
        args += [hashlib.sha1(raw).hexdigest() if raw is not None else "" for _, raw in read]
        args += [
            hashlib.sha1("\n".join(members).encode()).hexdigest()
            for members in self.sets_read.values()
        ]
        return keys, args + self.ops.args

    async def presence(self, *user_ids: str, sessions: bool = False) -> None:
        """What :meth:`MemoryStore.presence_of` reads for each of ``user_ids`` (and with
        ``sessions`` their sessions too)."""
        await self.fetch(
            *(("session", u) for u in user_ids if sessions),
            *(("member_rooms", u) for u in user_ids),
            *(("user_invitations", u) for u in user_ids),
        )
        state = self.state
        await self.fetch(
            *(("room", r) for u in user_ids for r in state.member_rooms.get(u, ())),
            *(("invitation", i) for u in user_ids for i in state.user_invitations.get(u, ())),
        )

    # --- write-back -----------------------------------------------------------------

    def write(self) -> None:
        """Note the writes that make Redis equal the changed state."""
        state, out, keys = self.state, self.ops, self.keys
        for user_id, new, old in self._changes("session", state.sessions, _SESSION.dump_json):
            key = keys.of("session", user_id)
            if old is not None:
                before = _SESSION.validate_json(old)
                out.srem(keys.of("server_sessions", before.server), user_id)
            if new is None:
                out.delete(key)
                out.srem(keys.online, user_id)
            else:
                out.set(key, new)
                out.sadd(keys.online, user_id)
                out.sadd(keys.of("server_sessions", state.sessions[user_id].server), user_id)
        for room_id, new, _ in self._changes("room", state.rooms, _ROOM.dump_json):
            if new is None:
                out.delete(keys.of("room", room_id))
                out.srem(keys.rooms, room_id)
                out.srem(keys.unjoined, room_id)
                continue
            out.set(keys.of("room", room_id), new)
            out.sadd(keys.rooms, room_id)
            if state.rooms[room_id].members:
                out.srem(keys.unjoined, room_id)
            else:
                out.sadd(keys.unjoined, room_id)
        for kind, sets in (
            ("member_rooms", state.member_rooms),
            ("user_invitations", state.user_invitations),
        ):
            for name, new, _ in self._changes(kind, sets, _encode_ids):
                if new is None:
                    out.delete(keys.of(kind, name))
                else:
                    out.set(keys.of(kind, name), new)
        self._write_invitations()
        ended = self.read["ended"]
        for room_id in state.ended_calls:
            if ended.get(room_id) is None:
                self._require_read(room_id in ended, "ended", room_id)
                out.set(keys.of("ended", room_id), b"1", ex=ENDED_CALL_TTL_S)
        for room_id, was in ended.items():
            if was is not None and room_id not in state.ended_calls:
                out.delete(keys.of("ended", room_id))

    def _write_invitations(self) -> None:
        state, out, keys = self.state, self.ops, self.keys
        seen = self.read["invitation"]
        for invitation_id in seen.keys() | state.invitations.keys():
            invitation = state.invitations.get(invitation_id)
            old = seen.get(invitation_id)
            key = keys.of("invitation", invitation_id)
            if invitation is None:
                if old is not None:
                    call_id = _INVITATION.validate_json(old).call_id
                    out.delete(key)
                    out.srem(keys.invitations, invitation_id)
                    out.srem(keys.of("call_invitations", call_id), invitation_id)
                continue
            new = _INVITATION.dump_json(invitation)
            if new == old:
                continue
            # A new invitation's id is fresh (random): nobody else can be writing it.
            out.set(key, new)
            out.sadd(keys.invitations, invitation_id)
            out.sadd(keys.of("call_invitations", invitation.call_id), invitation_id)

    def _changes(
        self, kind: str, current: Mapping[str, T], encode: Callable[[T], bytes]
    ) -> list[tuple[str, bytes | None, bytes | None]]:
        """(name, new value or None when deleted, old value) of each changed entry."""
        seen = self.read[kind]
        changes: list[tuple[str, bytes | None, bytes | None]] = []
        for name in seen.keys() | current.keys():
            old = seen.get(name)
            if name not in current:
                if old is not None:
                    changes.append((name, None, old))
                continue
            new = encode(current[name])
            if new != old:
                self._require_read(name in seen, kind, name)
                changes.append((name, new, old))
        return changes

    @staticmethod
    def _require_read(was_read: bool, kind: str, name: str) -> None:
        if not was_read:
            raise StoreBugError(f"a store transition wrote {kind}:{name} without reading it")


Loader = Callable[[_Transaction], Awaitable[None]]


class _Writes:
    """The writes of one transition, as :data:`_COMMIT` takes them (ARGV after the
    digests): a command letter, the key, and its arguments."""

    def __init__(self) -> None:
        self.args: list[str | bytes] = []

    def set(self, key: str, value: bytes, ex: int | None = None) -> None:
        if ex is None:
            self.args += ["S", key, value]
        else:
            self.args += ["X", key, value, str(ex)]

    def delete(self, key: str) -> None:
        self.args += ["D", key]

    def sadd(self, key: str, member: str) -> None:
        self.args += ["A", key, member]

    def srem(self, key: str, member: str) -> None:
        self.args += ["R", key, member]


async def _back_off(attempt: int) -> None:
    """Spread the retries of many racing servers a little apart."""
    await asyncio.sleep(random.uniform(0, 0.0005 * min(attempt, 20)))


class RedisStore:
    """A :class:`~signaling.store.Store` in Redis, shared by any number of server processes."""

    def __init__(self, redis: Redis, prefix: str = "parley:") -> None:
        self._redis = redis
        self._keys = _Keys(prefix)
        self._announce = redis.register_script(_ANNOUNCE)
        self._raise = redis.register_script(_RAISE)
        self._claim = redis.register_script(_CLAIM)
        self._commit_script = redis.register_script(_COMMIT)

    @property
    def redis(self) -> Redis:
        return self._redis

    async def _transact(
        self,
        load: Loader,
        run: Callable[[MemoryStore], Awaitable[T]],
        *,
        epoch: bool = False,
    ) -> T:
        """Load, run, write back; again while other servers changed what was read."""
        for attempt in range(MAX_ATTEMPTS):
            tx = _Transaction(self._redis, self._keys)
            if epoch:
                # An epoch only has to be unique: take the next one, whatever happens.
                tx.state.epoch = int(await self._redis.incr(self._keys.epoch)) - 1
            await load(tx)
            try:
                result = await run(MemoryStore(tx.state))
            except Exception:
                # A refusal, or a failure, may come from keys read at different moments
                # (one changed between two reads): trust it only when none of them has
                # changed since, which committing no writes tells.
                if await self._commit(tx):
                    raise
                await _back_off(attempt)
                continue
            tx.write()
            if await self._commit(tx):
                return result
            await _back_off(attempt)
        raise SignalingError(ErrorCode.INTERNAL, "the store is too busy; try again")

    async def _commit(self, tx: _Transaction) -> bool:
        """Write what ``tx`` changed if nothing it read has changed; False otherwise."""
        keys, args = tx.commit_args()
        return bool(await self._commit_script(keys=keys, args=args))

    # --- sessions -------------------------------------------------------------------

    async def bind_session(self, session: Session) -> Session | None:
        async def load(tx: _Transaction) -> None:
            await tx.fetch(("session", session.user_id))

        return await self._transact(load, lambda m: m.bind_session(session))

    async def unbind_session(self, user_id: str, sid: str) -> bool:
        async def load(tx: _Transaction) -> None:
            await tx.fetch(("session", user_id))

        return await self._transact(load, lambda m: m.unbind_session(user_id, sid))

    async def session_of(self, user_id: str) -> Session | None:
        raw = await self._redis.get(self._keys.of("session", user_id))
        return _SESSION.validate_json(raw) if raw is not None else None

    async def online(self) -> list[Session]:
        return await self._sessions(await self._redis.smembers(self._keys.online))

    async def sessions_on(self, server: str) -> list[Session]:
        """The sessions held by the server process ``server``."""
        key = self._keys.of("server_sessions", server)
        ids = await self._redis.smembers(key)
        return [s for s in await self._sessions(ids) if s.server == server]

    async def _sessions(self, user_ids: set[bytes | str]) -> list[Session]:
        if not user_ids:
            return []
        keys = [self._keys.of("session", _text(u)) for u in user_ids]
        raws = await self._redis.mget(keys)
        return [_SESSION.validate_json(raw) for raw in raws if raw is not None]

    async def presence_of(self, user_id: str) -> PresenceState:
        async def load(tx: _Transaction) -> None:
            await tx.presence(user_id)

        return await self._transact(load, lambda m: m.presence_of(user_id))

    async def sessions_and_presence(
        self, user_ids: Sequence[str]
    ) -> dict[str, tuple[Session | None, PresenceState]]:
        async def load(tx: _Transaction) -> None:
            await tx.presence(*user_ids, sessions=True)

        return await self._transact(load, lambda m: m.sessions_and_presence(user_ids))

    # --- announced presence -----------------------------------------------------------

    async def announce_presence(self, entries: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
        args: list[str] = []
        for user_id, entry in entries.items():
            text = json.dumps(entry, sort_keys=True, separators=(",", ":")) if entry else ""
            args += [user_id, text]
        if not args:
            return []
        changed = await self._announce(keys=[self._keys.presence], args=args)
        return [_text(user_id) for user_id in changed]

    async def announced_presence(self) -> list[dict[str, Any]]:
        values = await self._redis.hvals(self._keys.presence)
        return [json.loads(value) for value in values]

    # --- server processes -------------------------------------------------------------

    async def heartbeat(self, server: str) -> None:
        """Note that ``server`` is alive now."""
        await self._redis.hset(self._keys.servers, server, str(time.time()))

    async def servers_silent_for(self, seconds: float) -> list[str]:
        """Servers whose last heartbeat is older than ``seconds``."""
        beats = await self._redis.hgetall(self._keys.servers)
        now = time.time()
        return [_text(k) for k, v in beats.items() if now - float(v) > seconds]

    async def claim_dead_server(self, server: str) -> bool:
        """Take over the sessions of a silent server: True for exactly one claimant."""
        removed = await self._redis.hdel(self._keys.servers, server)
        return bool(removed)

    # --- timers -----------------------------------------------------------------------

    async def schedule_timer(self, name: str, due_at: float, payload: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._keys.timers, {name: due_at})
            pipe.hset(self._keys.timer_args, name, payload)
            await pipe.execute()

    async def cancel_timer(self, name: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._keys.timers, name)
            pipe.hdel(self._keys.timer_args, name)
            await pipe.execute()

    async def claim_due_timers(self, now: float, limit: int) -> list[tuple[str, str]]:
        """Take the timers due by ``now``: each is handed to exactly one caller."""
        keys = [self._keys.timers, self._keys.timer_args]
        flat = await self._claim(keys=keys, args=[repr(now), limit])
        texts = [_text(item) for item in flat]
        return list(zip(texts[::2], texts[1::2], strict=True))

    # --- rooms ----------------------------------------------------------------------

    async def join_room(
        self, room_id: str, kind: str, member: Member, now_ms: int, audio: Join | None = None
    ) -> Room:
        async def load(tx: _Transaction) -> None:
            await tx.fetch(("room", room_id), ("ended", room_id), ("member_rooms", member.user_id))

        return await self._transact(
            load, lambda m: m.join_room(room_id, kind, member, now_ms, audio), epoch=True
        )

    async def leave_room(
        self, room_id: str, user_id: str, expected_epoch: int | None = None, *, bar: bool = False
    ) -> tuple[Member | None, list[str]]:
        async def load(tx: _Transaction) -> None:
            await tx.fetch(("room", room_id), ("ended", room_id), ("member_rooms", user_id))

        return await self._transact(
            load, lambda m: m.leave_room(room_id, user_id, expected_epoch, bar=bar)
        )

    async def room(self, room_id: str) -> Room | None:
        raw = await self._redis.get(self._keys.of("room", room_id))
        return _decode_room(_bytes(raw)) if raw is not None else None

    async def rooms_of(self, user_id: str) -> list[str]:
        raw = await self._redis.get(self._keys.of("member_rooms", user_id))
        return sorted(_ids(None if raw is None else _bytes(raw)))

    async def drop_room(self, room_id: str) -> Room | None:
        async def load(tx: _Transaction) -> None:
            await tx.fetch(("room", room_id), ("ended", room_id))
            room = tx.state.rooms.get(room_id)
            await tx.fetch(*(("member_rooms", u) for u in (room.members if room else ())))

        return await self._transact(load, lambda m: m.drop_room(room_id))

    async def drop_room_if_empty(self, room_id: str) -> bool:
        async def load(tx: _Transaction) -> None:
            await tx.fetch(("room", room_id), ("ended", room_id))
            await tx.call_invitations(room_id)

        return await self._transact(load, lambda m: m.drop_room_if_empty(room_id))

    async def update_devices(
        self, room_id: str, user_id: str, microphone: bool | None, camera: bool | None
    ) -> Member | None:
        return await self._in_room(
            room_id, lambda m: m.update_devices(room_id, user_id, microphone, camera)
        )

    async def ensure_call(self, room_id: str, options: CallOptions, now_ms: int) -> CallOptions:
        async def load(tx: _Transaction) -> None:
            await tx.fetch(("room", room_id), ("ended", room_id))

        return await self._transact(load, lambda m: m.ensure_call(room_id, options, now_ms))

    async def apply_seats(self, room_id: str, op: Operation, actor: str | None) -> Outcome:
        return await self._in_room(room_id, lambda m: m.apply_seats(room_id, op, actor))

    async def set_user_attributes(
        self, room_id: str, user_id: str, updates: Mapping[str, str]
    ) -> Member:
        return await self._in_room(
            room_id, lambda m: m.set_user_attributes(room_id, user_id, updates)
        )

    async def set_property(
        self,
        room_id: str,
        key: str,
        value: str,
        owner: str,
        expected: str | None,
        if_absent: bool,
        delete_on_leave: bool,
    ) -> SetPropertyResult:
        return await self._in_room(
            room_id,
            lambda m: m.set_property(
                room_id, key, value, owner, expected, if_absent, delete_on_leave
            ),
        )

    async def delete_properties(self, room_id: str, keys: list[str], actor: str) -> list[str]:
        return await self._in_room(room_id, lambda m: m.delete_properties(room_id, keys, actor))

    async def append_message(
        self, room_id: str, sender_id: str, sender_name: str, text: str, now_ms: int
    ) -> Message | None:
        return await self._in_room(
            room_id, lambda m: m.append_message(room_id, sender_id, sender_name, text, now_ms)
        )

    async def _in_room(self, room_id: str, run: Callable[[MemoryStore], Awaitable[T]]) -> T:
        """A transition that reads and writes the one room."""

        async def load(tx: _Transaction) -> None:
            await tx.fetch(("room", room_id))

        return await self._transact(load, run)

    # --- invitations ----------------------------------------------------------------

    async def create_invitation(self, invitation: Invitation) -> Invitation:
        async def load(tx: _Transaction) -> None:
            await tx.fetch(
                ("invitation", invitation.invitation_id),
                ("user_invitations", invitation.caller_id),
            )
            await tx.presence(*invitation.invitees, sessions=True)

        # The method fills in the invitees' first states: give each attempt a fresh copy.
        def run(m: MemoryStore) -> Awaitable[Invitation]:
            fresh = _INVITATION.validate_python(_INVITATION.dump_python(invitation))
            return m.create_invitation(fresh)

        created = await self._transact(load, run)
        invitation.invitees.update(created.invitees)
        return invitation

    async def invitation(self, invitation_id: str) -> Invitation | None:
        raw = await self._redis.get(self._keys.of("invitation", invitation_id))
        return _INVITATION.validate_json(raw) if raw is not None else None

    async def transition_invitee(
        self,
        invitation_id: str,
        user_id: str,
        to_state: InvitationUserState,
        extended_data: str = "",
    ) -> Invitee | None:
        async def load(tx: _Transaction) -> None:
            await tx.fetch(("invitation", invitation_id))
            invitation = tx.state.invitations.get(invitation_id)
            if invitation is not None:
                await tx.fetch(("room", invitation.call_id))

        return await self._transact(
            load, lambda m: m.transition_invitee(invitation_id, user_id, to_state, extended_data)
        )

    async def finish_invitation(self, invitation_id: str) -> bool:
        async def load(tx: _Transaction) -> None:
            await tx.fetch(("invitation", invitation_id))
            invitation = tx.state.invitations.get(invitation_id)
            if invitation is not None:
                users = [invitation.caller_id, *invitation.invitees]
                await tx.fetch(*(("user_invitations", u) for u in users))

        return await self._transact(load, lambda m: m.finish_invitation(invitation_id))

    async def invitations_of(self, user_id: str) -> list[Invitation]:
        async def load(tx: _Transaction) -> None:
            await tx.fetch(("user_invitations", user_id))
            ids = tx.state.user_invitations.get(user_id, ())
            await tx.fetch(*(("invitation", i) for i in ids))

        return await self._transact(load, lambda m: m.invitations_of(user_id))

    # --- revoked tokens ---------------------------------------------------------------

    async def revoke_token(self, token_id: str, expires_at: float) -> None:
        ttl = int(expires_at - time.time()) + 1
        if token_id and ttl > 0:
            await self._redis.set(self._keys.of("revoked", token_id), b"1", ex=ttl)

    async def revoke_user(self, user_id: str, issued_up_to: float) -> None:
        key = self._keys.of("revoked_up_to", user_id)
        await self._raise(keys=[key], args=[repr(issued_up_to), _REVOKE_USER_TTL_S])

    async def is_revoked(self, user_id: str, token_id: str, issued_at: float) -> bool:
        revoked, up_to = await self._redis.mget(
            [
                self._keys.of("revoked", token_id or "-"),
                self._keys.of("revoked_up_to", user_id),
            ]
        )
        if token_id and revoked is not None:
            return True
        return up_to is not None and issued_at <= float(up_to)

    async def stats(self) -> dict[str, int]:
        keys = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in (keys.online, keys.rooms, keys.unjoined, keys.invitations):
                pipe.scard(key)
            sessions, rooms, unjoined, invitations = await pipe.execute()
        return {
            "sessions": sessions,
            "rooms": rooms - unjoined,
            "unjoined_calls": unjoined,
            "invitations": invitations,
        }
