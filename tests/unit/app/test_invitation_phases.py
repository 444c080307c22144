"""The invitation phases as pure logic: no Qt, no server, no awaits."""

from __future__ import annotations

from app.kit.call.phases import (
    DeclineBusy,
    ExpectInvitees,
    InvitationPhases,
    InviteeGone,
    Phase,
    Ringing,
    StartCall,
)
from app.kit.types import User

ME = User("me", "Me")
BOB = User("bob", "Bob")
CAROL = User("carol", "Carol")


def phase(phases: InvitationPhases) -> Phase:
    """Read afresh (mypy would keep an earlier assert's narrowing of the attribute)."""
    return phases.phase


def one_to_one(invitation_id: str = "inv-1", call_id: str = "call-1") -> Ringing:
    return Ringing(invitation_id, call_id, ME, (BOB,), is_video=True)


def group(invitation_id: str = "inv-g", call_id: str = "call-g") -> Ringing:
    return Ringing(invitation_id, call_id, ME, (BOB, CAROL), is_video=False)


def incoming(invitation_id: str = "inv-in", call_id: str = "call-in") -> Ringing:
    return Ringing(invitation_id, call_id, BOB, (ME,), is_video=True)


def test_a_one_to_one_call_rings_out_and_starts_when_accepted() -> None:
    phases = InvitationPhases()
    assert phases.sent(one_to_one(), ["bob"]) == []
    assert phase(phases) is Phase.OUTGOING
    assert not phases.can_send

    effects = phases.remote_accepted("inv-1", "bob")

    assert effects == [StartCall("call-1", True, False, {"bob": "inv-1"})]
    assert (phases.phase, phases.call_id) == (Phase.IN_CALL, "call-1")
    assert phases.can_send  # during a call, sending invites into it


def test_a_group_call_starts_at_once_waiting_for_whoever_rings() -> None:
    phases = InvitationPhases()
    effects = phases.sent(group(), ["bob"])  # carol was offline: only bob rings
    assert effects == [StartCall("call-g", False, True, {"bob": "inv-g"})]
    assert phase(phases) is Phase.IN_CALL


def test_nobody_ringing_starts_nothing() -> None:
    phases = InvitationPhases()
    assert phases.sent(one_to_one(), []) == []
    assert phase(phases) is Phase.IDLE


def test_inviting_during_a_call_expects_the_new_invitees() -> None:
    phases = InvitationPhases()
    phases.sent(group(), ["bob", "carol"])
    dave = Ringing("inv-2", "call-g", ME, (User("dave", "Dave"),), is_video=False)
    assert phases.sent(dave, ["dave"]) == [ExpectInvitees({"dave": "inv-2"})]
    assert phase(phases) is Phase.IN_CALL


def test_invitees_that_stop_ringing_are_reported_to_the_call() -> None:
    phases = InvitationPhases()
    phases.sent(group(), ["bob", "carol"])
    assert phases.remote_refused("bob") == [InviteeGone("bob")]
    assert phases.timed_out_out("inv-g", ["carol"]) == [InviteeGone("carol")]
    assert phases.invitees_gone("call-g", ["dave"]) == [InviteeGone("dave")]
    assert phases.invitees_gone("another-call", ["dave"]) == []
    assert phase(phases) is Phase.IN_CALL


def test_a_refused_one_to_one_call_rings_until_the_invitation_ends() -> None:
    phases = InvitationPhases()
    phases.sent(one_to_one(), ["bob"])
    assert phases.remote_refused("bob") == []  # the page shows "Declined" meanwhile
    assert phase(phases) is Phase.OUTGOING
    phases.ended("inv-1", accepted=False)
    assert phase(phases) is Phase.IDLE


def test_an_unanswered_one_to_one_call_goes_back_to_idle() -> None:
    phases = InvitationPhases()
    phases.sent(one_to_one(), ["bob"])
    assert phases.timed_out_out("inv-1", ["bob"]) == []
    assert phase(phases) is Phase.IDLE


def test_cancelling_returns_what_rang_out() -> None:
    phases = InvitationPhases()
    assert phases.cancelling() is None  # nothing rings out
    ringing = one_to_one()
    phases.sent(ringing, ["bob"])
    assert phases.cancelling() == ringing
    assert phase(phases) is Phase.IDLE


def test_a_call_rings_here_until_answered() -> None:
    phases = InvitationPhases()
    ringing = incoming()
    assert phases.received(ringing) == []
    assert phase(phases) is Phase.INCOMING
    assert phases.ringing_here == ringing

    assert phases.accepted_here("call-in") == [StartCall("call-in", True, False)]
    assert phase(phases) is Phase.IN_CALL
    assert phases.ringing_here is None


def test_declining_or_a_failed_accept_stops_the_ringing() -> None:
    phases = InvitationPhases()
    phases.received(incoming())
    assert phases.declining() == incoming()
    assert phase(phases) is Phase.IDLE
    assert phases.declining() is None


def test_a_second_invitation_is_declined_as_busy() -> None:
    phases = InvitationPhases()
    phases.received(incoming())
    assert phases.received(incoming("inv-2", "call-2")) == [DeclineBusy("inv-2")]
    assert phases.ringing_here == incoming()  # the first one still rings

    busy_in_a_call = InvitationPhases()
    busy_in_a_call.sent(group(), ["bob"])
    assert busy_in_a_call.received(incoming()) == [DeclineBusy("inv-in")]


def test_a_cancelled_or_unanswered_call_stops_ringing_here_only_if_it_is_that_call() -> None:
    phases = InvitationPhases()
    phases.received(incoming())
    phases.stopped_ringing_here("some-other-invitation")
    assert phase(phases) is Phase.INCOMING
    phases.stopped_ringing_here("inv-in")
    assert phase(phases) is Phase.IDLE


def test_the_end_of_the_call_in_progress_goes_back_to_idle() -> None:
    phases = InvitationPhases()
    phases.received(incoming())
    phases.accepted_here("call-in")
    phases.call_ended("an-older-call")
    assert phase(phases) is Phase.IN_CALL
    phases.call_ended("call-in")
    assert (phases.phase, phases.call_id) == (Phase.IDLE, None)


def test_reset_forgets_everything() -> None:
    phases = InvitationPhases()
    phases.sent(one_to_one(), ["bob"])
    phases.reset()
    assert (phases.phase, phases.ringing, phases.call_id) == (Phase.IDLE, None, None)
