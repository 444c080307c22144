"""Events of the call-invitation service (``ZegoUIKitPrebuiltCallInvitationEvents``).

Callers and callees both get events; the docstring of each field says who.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.kit.events.hooks import HookResult
from app.kit.types import CallUser, InvitationUserInfo, KitError
from signaling.enums import CallType

__all__ = ["CallInvitationEvents"]


@dataclass(kw_only=True, slots=True)
class CallInvitationEvents:
    """All events of the invitation service. Sequences are passed as tuples."""

    #: An invitation request failed (send, cancel, accept, reject), or a hook raised.
    on_error: Callable[[KitError], HookResult] | None = None
    #: To the inviter: invitees accepted, rejected, quit or timed out.
    on_invitation_user_state_changed: (
        Callable[[Sequence[InvitationUserInfo]], HookResult] | None
    ) = None
    #: To the callee: the decline button was pressed.
    on_incoming_call_decline_button_pressed: Callable[[], HookResult] | None = None
    #: To the callee: the accept button was pressed.
    on_incoming_call_accept_button_pressed: Callable[[], HookResult] | None = None
    #: To the callee: (call_id, caller, call_type, callees, custom_data).
    on_incoming_call_received: (
        Callable[[str, CallUser, CallType, Sequence[CallUser], str], HookResult] | None
    ) = None
    #: To the callee: the caller cancelled (call_id, caller, custom_data).
    on_incoming_call_canceled: Callable[[str, CallUser, str], HookResult] | None = None
    #: To the callee: the callee did not answer in time (call_id, caller).
    on_incoming_call_timeout: Callable[[str, CallUser], HookResult] | None = None
    #: To the caller: the cancel button was pressed.
    on_outgoing_call_cancel_button_pressed: Callable[[], HookResult] | None = None
    #: To the caller: a callee accepted (call_id, callee).
    on_outgoing_call_accepted: Callable[[str, CallUser], HookResult] | None = None
    #: To the caller: a callee was busy (call_id, callee, custom_data).
    on_outgoing_call_rejected_cause_busy: Callable[[str, CallUser, str], HookResult] | None = None
    #: To the caller: a callee declined (call_id, callee, custom_data).
    on_outgoing_call_declined: Callable[[str, CallUser, str], HookResult] | None = None
    #: To the caller: callees did not answer in time (call_id, callees, is_video_call).
    on_outgoing_call_timeout: Callable[[str, Sequence[CallUser], bool], HookResult] | None = None
