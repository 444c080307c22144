"""Device settings: camera, microphone and speaker, with a live preview and a level meter.

The dialog only renders :class:`~app.kit.views.devices.DeviceSettingsView` values,
frames and levels, and emits what the user chose; the composition root wires it to the
device settings presenter. Showing it starts the preview, hiding it (OK, Cancel,
closing) stops it, so the camera light goes off with the dialog.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QHideEvent, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.kit.views.call import level_from_dbfs
from app.kit.views.devices import (
    SYSTEM_DEFAULT,
    DeviceKind,
    DeviceListView,
    DeviceSettingsView,
    MicrophoneTest,
    PreviewState,
)
from widgets import call_style, icons
from widgets.call_style import call_style_sheet
from widgets.plain_text import PlainLabel
from widgets.theme import Colors
from widgets.video_view import FitMode, VideoView

LEVEL_STEPS = 100
PREVIEW_SIZE = (400, 300)

_STYLE = """
QComboBox {{
    background: {surface_alt}; border: 1px solid {border}; border-radius: 8px;
    padding: 4px 10px; min-height: 22px;
}}
QComboBox:hover, QComboBox:focus {{ border-color: {accent}; }}
QComboBox:disabled {{ color: {muted}; border-style: dashed; }}
QComboBox::drop-down {{ border: none; width: 28px; }}
QComboBox::down-arrow {{ image: none; }}
QComboBox QAbstractItemView {{
    background: {surface}; color: {text}; border: 1px solid {border}; outline: none;
    selection-background-color: {selection}; selection-color: {text};
}}
QProgressBar#level {{
    background: {surface_alt}; border: 1px solid {border}; border-radius: 4px;
    max-height: 8px; min-height: 8px;
}}
QProgressBar#level::chunk {{ background: {speaking}; border-radius: 3px; }}
QLabel#previewStatus {{
    color: {on_stage}; background: rgba(10, 12, 16, 150); border-radius: 8px;
    padding: 6px 12px;
}}
QLabel#missing {{ color: {warning_text}; font-size: 9pt; }}
"""


def dialog_style_sheet(colors: Colors) -> str:
    """The call widgets' style plus the combo boxes and the level bar, for ``colors``."""
    fields = {k: v for k, v in vars(colors).items() if isinstance(v, str)}
    extra = _STYLE.format(speaking=call_style.SPEAKING, on_stage=call_style.ON_STAGE, **fields)
    return call_style_sheet(colors) + extra


class DeviceCombo(QComboBox):
    """A combo box with a chevron painted in the theme's colour (the style sheet hides
    the native arrow, whose square box clashes with the rounded frame)."""

    device_chosen = Signal(str)
    """The user picked the device with this id (``SYSTEM_DEFAULT`` for the default)."""

    def __init__(self, color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._color = color
        self.activated.connect(self._on_activated)

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        device_id = self.itemData(index)
        if isinstance(device_id, str):  # not the "No camera" line
            self.device_chosen.emit(device_id)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        size = 14
        painter = QPainter(self)
        if not self.isEnabled():
            painter.setOpacity(0.5)
        painter.drawPixmap(
            self.width() - size - 10,
            (self.height() - size) // 2,
            icons.pixmap("chevron-down", self._color, size),
        )


class DeviceSettingsDialog(QDialog):
    """Three device lists, the camera preview, the microphone level and a test sound."""

    camera_chosen = Signal(str)
    microphone_chosen = Signal(str)
    speaker_chosen = Signal(str)
    """A device id, or ``SYSTEM_DEFAULT`` (empty) for the system's choice."""
    voice_processing_toggled = Signal(bool)
    """The "cancel echo and background noise" box was ticked or cleared."""
    test_sound_requested = Signal()
    microphone_test_requested = Signal()
    preview_started = Signal()
    """The dialog is on screen: open the camera and microphone."""
    preview_stopped = Signal()
    """The dialog was hidden or closed: release them."""

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("device_settings_dialog")
        self.setProperty("kind", "page")
        self.setStyleSheet(dialog_style_sheet(colors))
        self.setWindowTitle(self.tr("Devices"))
        self.setModal(True)
        self._colors = colors
        self._view = DeviceSettingsView(listed=False)
        self._camera_state = PreviewState.OFF
        self._microphone_state = PreviewState.OFF
        self._level = 0.0

        title = PlainLabel(self.tr("Camera, microphone and speaker"), self)
        title.setObjectName("panelTitle")
        hint = PlainLabel(self.tr("Used for your calls and audio rooms."), self)
        hint.setObjectName("panelMuted")

        self.preview = VideoView(self, fit_mode=FitMode.FIT, radius=12.0)
        self.preview.set_mirrored(True)  # like a mirror, as in the call's self-view
        self.preview.avatar.hide()
        self.preview.setFixedSize(*PREVIEW_SIZE)
        self.preview_label = PlainLabel(self.preview)
        self.preview_label.setObjectName("previewStatus")
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setMaximumWidth(PREVIEW_SIZE[0] - 32)
        self.preview.content_layout.addWidget(
            self.preview_label, 0, 0, Qt.AlignmentFlag.AlignCenter
        )

        self.combos: dict[DeviceKind, DeviceCombo] = {}
        fields = {
            DeviceKind.CAMERA: self.tr("Camera"),
            DeviceKind.MICROPHONE: self.tr("Microphone"),
            DeviceKind.SPEAKER: self.tr("Speaker"),
        }
        chosen = {
            DeviceKind.CAMERA: self.camera_chosen,
            DeviceKind.MICROPHONE: self.microphone_chosen,
            DeviceKind.SPEAKER: self.speaker_chosen,
        }
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(1, 1)
        row = 0
        for kind, text in fields.items():
            label = PlainLabel(text, self)
            label.setObjectName("field")
            combo = DeviceCombo(colors.muted, self)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(16)
            combo.device_chosen.connect(chosen[kind])
            label.setBuddy(combo)
            self.combos[kind] = combo
            grid.addWidget(label, row, 0)
            grid.addWidget(combo, row, 1, 1, 2)
            row += 1
            if kind is DeviceKind.MICROPHONE:
                self.level_bar = QProgressBar(self)
                self.level_bar.setObjectName("level")
                self.level_bar.setRange(0, LEVEL_STEPS)
                self.level_bar.setTextVisible(False)
                self.level_bar.setAccessibleName(self.tr("Microphone level"))
                self.microphone_hint = PlainLabel(self)
                self.microphone_hint.setObjectName("panelMuted")
                _keep_size(self.microphone_hint, lines=1)
                grid.addWidget(self.level_bar, row, 1, 1, 2)
                grid.addWidget(self.microphone_hint, row + 1, 1, 1, 2)
                self.voice_processing_box = QCheckBox(
                    self.tr("Cancel echo and background noise"), self
                )
                self.voice_processing_box.setObjectName("voice_processing")
                self.voice_processing_box.setToolTip(
                    self.tr(
                        "Removes what your speakers play from your microphone, so the "
                        "others do not hear themselves, and evens out noise and loudness."
                    )
                )
                self.voice_processing_box.toggled.connect(self.voice_processing_toggled)
                grid.addWidget(self.voice_processing_box, row + 2, 1, 1, 2)
                row += 3
        self.test_sound_button = QPushButton(self.tr("Play test sound"), self)
        self.test_sound_button.setMinimumWidth(self.test_sound_button.sizeHint().width())
        self.test_sound_button.clicked.connect(self.test_sound_requested)
        self.microphone_test_button = QPushButton(self.tr("Playing it back…"), self)
        self.microphone_test_button.setObjectName("microphone_test_button")
        # Wide enough for its longest text: the row does not jump while it runs.
        self.microphone_test_button.setMinimumWidth(self.microphone_test_button.sizeHint().width())
        self.microphone_test_button.setText(self.tr("Test microphone"))
        self.microphone_test_button.setToolTip(
            self.tr(
                "Records five seconds as a call would send them (with echo cancellation "
                "when it is on), then plays them back on the speaker."
            )
        )
        self.microphone_test_button.clicked.connect(self.microphone_test_requested)
        self._microphone_test = MicrophoneTest.IDLE
        tests = QHBoxLayout()
        tests.setSpacing(8)
        tests.addWidget(self.test_sound_button)
        tests.addWidget(self.microphone_test_button)
        tests.addStretch(1)
        grid.addLayout(tests, row, 1, 1, 2)
        # One place for "not connected" notes, its room kept: the dialog never resizes.
        self.missing_label = PlainLabel(self)
        self.missing_label.setObjectName("missing")
        self.missing_label.setWordWrap(True)
        self.missing_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        _keep_size(self.missing_label, lines=2)

        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = QPushButton(self.tr("OK"), self)
        self.ok_button.setObjectName("ok_button")
        self.ok_button.setProperty("kind", "primary")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)

        column = QVBoxLayout(self)
        column.setContentsMargins(24, 20, 24, 18)
        column.setSpacing(8)
        column.addWidget(title)
        column.addWidget(hint)
        column.addSpacing(4)
        column.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addSpacing(8)
        column.addLayout(grid)
        column.addWidget(self.missing_label)
        column.addLayout(buttons)
        self.set_view(self._view)
        self.set_preview_state(DeviceKind.CAMERA, PreviewState.OFF)
        self.set_preview_state(DeviceKind.MICROPHONE, PreviewState.OFF)
        # Size the window before it is created, so showing it does not resize it again.
        column.activate()

    # --- what the presenter tells ---------------------------------------------------------

    @property
    def view(self) -> DeviceSettingsView:
        """The lists shown."""
        return self._view

    @property
    def level(self) -> float:
        """The microphone level shown, 0..1."""
        return self._level

    @Slot(object)
    def set_view(self, view: DeviceSettingsView) -> None:
        """Show the device lists of ``view``."""
        self._view = view
        self.voice_processing_box.blockSignals(True)
        self.voice_processing_box.setChecked(view.voice_processing)
        self.voice_processing_box.blockSignals(False)
        empty_texts = {
            DeviceKind.CAMERA: self.tr("No camera"),
            DeviceKind.MICROPHONE: self.tr("No microphone"),
            DeviceKind.SPEAKER: self.tr("No speaker"),
        }
        for kind, combo in self.combos.items():
            self._fill(combo, view.of(kind), empty_texts[kind] if view.listed else "")
        missing = [view.of(kind).missing for kind in DeviceKind if view.of(kind).missing]
        self.missing_label.setText(
            self.tr("Not connected: {names}. The default is used until it is back.").format(
                names=", ".join(f"“{name}”" for name in missing)
            )
            if missing
            else ""
        )
        self._enable_microphone_test()
        self.test_sound_button.setEnabled(
            self.test_sound_button.property("available") is not False and not view.speakers.empty
        )
        if self._camera_state is PreviewState.OFF:
            self._show_camera_text(self._camera_off_text())

    def _fill(self, combo: QComboBox, devices: DeviceListView, empty_text: str) -> None:
        combo.blockSignals(True)
        try:
            combo.clear()
            if devices.empty:
                combo.addItem(empty_text or self.tr("Looking for devices…"), None)
                combo.setEnabled(False)
                return
            combo.setEnabled(True)
            if devices.offers_default:
                combo.addItem(self.tr("System default"), SYSTEM_DEFAULT)
            names = [option.name for option in devices.options]
            for option in devices.options:
                # The id tells apart two devices with the same name.
                text = option.name if names.count(option.name) == 1 else option.id
                combo.addItem(text, option.id)
            combo.setCurrentIndex(max(0, combo.findData(devices.selected)))
        finally:
            combo.blockSignals(False)

    @Slot(object)
    def set_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        """Show a camera frame (``H×W×3`` RGB)."""
        if self._camera_state is PreviewState.LIVE:
            self.preview.set_frame(frame)

    @Slot(float)
    def set_level(self, dbfs: float) -> None:
        """Show the microphone level (dBFS)."""
        self._level = level_from_dbfs(dbfs)
        self.level_bar.setValue(round(self._level * LEVEL_STEPS))

    @Slot(object, object)
    def set_preview_state(self, kind: DeviceKind, state: PreviewState) -> None:
        """Say how the camera's or microphone's preview is doing."""
        if kind is DeviceKind.CAMERA:
            self._camera_state = state
            texts = {
                PreviewState.OFF: self._camera_off_text(),
                PreviewState.STARTING: self.tr("Starting the camera…"),
                PreviewState.NO_DEVICE: self.tr("No camera"),
                PreviewState.BUSY: self.tr("Another app is using the camera"),
                PreviewState.DENIED: self.tr("Parley may not use the camera"),
                PreviewState.SILENT: self.tr("The camera sends no picture"),
                PreviewState.FAILED: self.tr("The camera could not be opened"),
            }
            if state is PreviewState.LIVE:
                self.preview_label.hide()
            else:
                self._show_camera_text(texts[state])
        elif kind is DeviceKind.MICROPHONE:
            self._microphone_state = state
            texts = {
                PreviewState.OFF: "",
                PreviewState.STARTING: "",
                PreviewState.LIVE: self.tr("Speak: the bar follows your voice."),
                PreviewState.NO_DEVICE: "",  # the list says it already
                PreviewState.BUSY: self.tr("Another app is using the microphone"),
                PreviewState.DENIED: self.tr("Parley may not use the microphone"),
                PreviewState.SILENT: self.tr("No sound comes from the microphone"),
                PreviewState.FAILED: self.tr("The microphone could not be opened"),
            }
            self.microphone_hint.setText(texts[state])
            if state is not PreviewState.LIVE:
                self.set_level(-100.0)

    def preview_state(self, kind: DeviceKind) -> PreviewState:
        """The state last shown for ``kind``."""
        return self._camera_state if kind is DeviceKind.CAMERA else self._microphone_state

    def _camera_off_text(self) -> str:
        if not self._view.listed:
            return ""  # not known yet: say nothing rather than "No camera"
        return self.tr("No camera") if self._view.cameras.empty else self.tr("Camera off")

    def _show_camera_text(self, text: str) -> None:
        self.preview.clear()
        self.preview.avatar.hide()
        self.preview_label.setText(text)
        self.preview_label.setVisible(bool(text))

    @Slot(bool)
    def set_test_sound_playing(self, playing: bool) -> None:
        """Disable the test sound button while the sound plays."""
        self.test_sound_button.setText(
            self.tr("Playing…") if playing else self.tr("Play test sound")
        )
        self.test_sound_button.setEnabled(not playing and not self._view.speakers.empty)

    @Slot(str)
    def set_microphone_test(self, step: str) -> None:
        """Show where the microphone test is (``MicrophoneTest`` values)."""
        texts = {
            MicrophoneTest.IDLE: self.tr("Test microphone"),
            MicrophoneTest.RECORDING: self.tr("Recording… speak"),
            MicrophoneTest.PLAYING: self.tr("Playing it back…"),
        }
        self._microphone_test = MicrophoneTest(step)
        self.microphone_test_button.setText(texts[self._microphone_test])
        self._enable_microphone_test()

    def _enable_microphone_test(self) -> None:
        self.microphone_test_button.setEnabled(
            self._microphone_test is MicrophoneTest.IDLE and not self._view.microphones.empty
        )

    def set_test_sound_available(self, available: bool) -> None:
        """Show the test sound button only when there is a test sound."""
        self.test_sound_button.setProperty("available", available)
        self.test_sound_button.setVisible(available)
        layout = self.layout()
        if layout is not None:
            # Resize now: a window that changes size constraints once shown makes
            # some platforms warn (offscreen: "does not support propagateSizeHints").
            layout.activate()

    # --- what the user does ----------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if not event.spontaneous():
            self.preview_started.emit()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        super().hideEvent(event)
        if not event.spontaneous():
            self.preview_stopped.emit()


def _keep_size(label: QLabel, lines: int) -> None:
    # A fixed height and no width of its own: new text never changes the dialog's size.
    label.setFixedHeight(label.fontMetrics().lineSpacing() * lines + 2)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
