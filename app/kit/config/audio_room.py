"""Configuration of live audio rooms, with the host and audience presets."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

from app.kit.config.validate import is_int, require, unique_enums
from app.kit.types import AudioRoomRole, ConfirmationDialog

#: Texts of the audio room's leave dialog.
LeaveConfirmationConfig: TypeAlias = ConfirmationDialog

#: The kit's default leave dialog, shown to the host by default.
LEAVE_DIALOG = ConfirmationDialog(title="Leave the room", message="Are you sure to leave the room?")


class SeatAlignment(StrEnum):
    """How the seats of a row share its width (``ZegoLiveAudioRoomLayoutAlignment``)."""

    START = "start"
    CENTER = "center"
    END = "end"
    SPACE_AROUND = "space_around"
    SPACE_BETWEEN = "space_between"
    SPACE_EVENLY = "space_evenly"


@dataclass(frozen=True, slots=True)
class SeatRowConfig:
    """One row of the seat grid (``ZegoLiveAudioRoomLayoutRowConfig``)."""

    count: int = 4
    alignment: SeatAlignment = SeatAlignment.SPACE_AROUND
    #: Pixels between seats of the row.
    spacing: int = 0

    def __post_init__(self) -> None:
        require(is_int(self.count), "SeatRowConfig.count must be an int")
        require(self.count >= 1, f"SeatRowConfig.count must be at least 1, not {self.count}")
        if not isinstance(self.alignment, SeatAlignment):
            raise TypeError("SeatRowConfig.alignment must be a SeatAlignment")
        require(is_int(self.spacing), "SeatRowConfig.spacing must be an int")
        require(self.spacing >= 0, f"SeatRowConfig.spacing must not be negative: {self.spacing}")


class AudioRoomMenuButton(StrEnum):
    """Buttons of an audio room's bottom bar (``ZegoLiveAudioRoomMenuBarButtonName``)."""

    TOGGLE_MICROPHONE = "toggle_microphone"
    SWITCH_AUDIO_OUTPUT = "switch_audio_output"
    SHOW_MEMBER_LIST = "show_member_list"
    #: Lock or unlock all seats (hosts only).
    CLOSE_SEAT = "close_seat"
    #: Apply for a seat, or cancel the application (audience only).
    APPLY_TO_TAKE_SEAT = "apply_to_take_seat"
    MINIMIZE = "minimize"
    LEAVE = "leave"


_R = AudioRoomMenuButton


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioRoomBottomBarConfig:
    """The bottom bar for each role; it follows the local user's current role."""

    host_buttons: tuple[AudioRoomMenuButton, ...] = (
        _R.TOGGLE_MICROPHONE,
        _R.SHOW_MEMBER_LIST,
        _R.CLOSE_SEAT,
    )
    speaker_buttons: tuple[AudioRoomMenuButton, ...] = (_R.TOGGLE_MICROPHONE, _R.SHOW_MEMBER_LIST)
    audience_buttons: tuple[AudioRoomMenuButton, ...] = (
        _R.SHOW_MEMBER_LIST,
        _R.APPLY_TO_TAKE_SEAT,
    )
    max_count: int = 5

    def __post_init__(self) -> None:
        for role in AudioRoomRole:
            name = f"{role.value}_buttons"
            buttons = unique_enums(
                f"AudioRoomBottomBarConfig.{name}", getattr(self, name), AudioRoomMenuButton
            )
            object.__setattr__(self, name, buttons)
        require(
            _R.CLOSE_SEAT not in self.speaker_buttons + self.audience_buttons,
            "AudioRoomBottomBarConfig: CLOSE_SEAT is a host button",
        )
        require(
            _R.APPLY_TO_TAKE_SEAT not in self.host_buttons + self.speaker_buttons,
            "AudioRoomBottomBarConfig: APPLY_TO_TAKE_SEAT is an audience button",
        )
        require(is_int(self.max_count), "AudioRoomBottomBarConfig.max_count must be an int")
        require(self.max_count >= 1, "AudioRoomBottomBarConfig.max_count must be at least 1")

    def buttons_for(self, role: AudioRoomRole) -> tuple[AudioRoomMenuButton, ...]:
        """The buttons shown to a member with this role."""
        buttons: tuple[AudioRoomMenuButton, ...] = getattr(self, f"{role.value}_buttons")
        return buttons


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioRoomConfig:
    """How an audio room starts and looks (``ZegoUIKitPrebuiltLiveAudioRoomConfig``)."""

    role: AudioRoomRole = AudioRoomRole.AUDIENCE
    #: The seat taken on joining; -1 takes none.
    take_seat_index_when_join: int = -1
    turn_on_microphone_when_joining: bool = False
    use_speaker_when_joining: bool = True
    #: Lock all seats on joining (hosts only).
    close_seat_when_join: bool = False
    seat_rows: tuple[SeatRowConfig, ...] = (SeatRowConfig(), SeatRowConfig())
    #: Pixels between rows.
    row_spacing: int = 0
    #: Seats only hosts may take.
    host_seat_indexes: tuple[int, ...] = (0,)
    bottom_menu_bar: AudioRoomBottomBarConfig = field(default_factory=AudioRoomBottomBarConfig)
    #: Shown before leaving; ``None`` leaves at once (a hook may still ask).
    leave_confirmation: LeaveConfirmationConfig | None = None
    show_duration: bool = True
    show_in_room_messages: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.role, AudioRoomRole):
            raise TypeError("AudioRoomConfig.role must be an AudioRoomRole")
        rows = tuple(self.seat_rows)
        require(bool(rows), "AudioRoomConfig.seat_rows needs at least one row")
        for row in rows:
            if not isinstance(row, SeatRowConfig):
                raise TypeError(f"AudioRoomConfig.seat_rows: {row!r} is not a SeatRowConfig")
        object.__setattr__(self, "seat_rows", rows)
        require(is_int(self.row_spacing), "AudioRoomConfig.row_spacing must be an int")
        require(self.row_spacing >= 0, "AudioRoomConfig.row_spacing must not be negative")
        self._check_seats(self.seat_count)
        require(
            not self.close_seat_when_join or self.role is AudioRoomRole.HOST,
            "AudioRoomConfig.close_seat_when_join needs role HOST: only hosts lock seats",
        )

    def _check_seats(self, seat_count: int) -> None:
        hosts = tuple(self.host_seat_indexes)
        for index in hosts:
            require(is_int(index), f"AudioRoomConfig.host_seat_indexes: {index!r} is not an int")
            require(
                0 <= index < seat_count,
                f"AudioRoomConfig.host_seat_indexes: {index} is out of range 0..{seat_count - 1}",
            )
        duplicates = sorted({i for i in hosts if hosts.count(i) > 1})
        require(not duplicates, f"AudioRoomConfig.host_seat_indexes: duplicates {duplicates}")
        object.__setattr__(self, "host_seat_indexes", hosts)

        take = self.take_seat_index_when_join
        require(is_int(take), "AudioRoomConfig.take_seat_index_when_join must be an int")
        if take == -1:
            return
        require(
            0 <= take < seat_count,
            f"AudioRoomConfig.take_seat_index_when_join: {take} is out of range "
            f"-1..{seat_count - 1}",
        )
        if self.role is AudioRoomRole.HOST:
            require(
                take in hosts,
                f"AudioRoomConfig.take_seat_index_when_join: a host takes a host seat {hosts}",
            )
        else:
            require(
                take not in hosts,
                f"AudioRoomConfig.take_seat_index_when_join: seat {take} is for hosts only",
            )

    @property
    def seat_count(self) -> int:
        """The number of seats in the grid."""
        return sum(row.count for row in self.seat_rows)

    @classmethod
    def host(cls) -> AudioRoomConfig:
        """The host: takes seat 0 with the microphone on, locks the seats, confirms leaving."""
        return cls(
            role=AudioRoomRole.HOST,
            take_seat_index_when_join=0,
            turn_on_microphone_when_joining=True,
            close_seat_when_join=True,
            leave_confirmation=LEAVE_DIALOG,
        )

    @classmethod
    def audience(cls) -> AudioRoomConfig:
        """A listener: no seat, microphone off, leaves without a dialog."""
        return cls()
