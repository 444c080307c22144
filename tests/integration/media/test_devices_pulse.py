"""Device listing and re-scanning through the real PortAudio, on the virtual devices."""

from __future__ import annotations

import pytest

from media import devices
from media.portaudio import open_stream_count, refresh_devices
from media.tracks import MicrophoneTrack
from tests.support import media_fixtures
from tests.support.media_fixtures import Cleanup, require_virtual_audio

pytestmark = pytest.mark.audio

media_cleanup = media_fixtures.media_cleanup


async def test_devices_are_listed_through_portaudio(media_cleanup: Cleanup) -> None:
    require_virtual_audio()
    microphones = devices.list_microphones()
    speakers = devices.list_speakers()
    assert any(m.name in ("pulse", "default") for m in microphones)
    assert any(s.name in ("pulse", "default") for s in speakers)
    assert all(s.route is not None for s in speakers)
    default = devices.default_speaker()
    assert default is not None
    assert default.is_default


async def test_rescan_waits_while_a_stream_is_open(media_cleanup: Cleanup) -> None:
    require_virtual_audio()
    track = media_cleanup.add(MicrophoneTrack())
    track.start()
    assert open_stream_count() == 1
    # Re-initialising PortAudio would kill the open stream, so it is refused.
    assert refresh_devices() is False
    track.stop()
    assert open_stream_count() == 0
    assert refresh_devices() is True
    assert devices.list_speakers() != []


async def test_watcher_default_lister_sees_the_virtual_devices(media_cleanup: Cleanup) -> None:
    require_virtual_audio()
    changes: list[devices.DeviceChange] = []
    watcher = media_cleanup.add(devices.DeviceWatcher(changes.append, interval_s=0.05))
    await watcher.poll()
    assert watcher.current is not None
    assert watcher.current.speakers != ()
    change = await watcher.poll()
    assert change.empty
    assert changes == []
