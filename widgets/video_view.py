"""Paints a participant's latest video frame, or their avatar when there is none.

Frames arrive as RGB ``numpy`` arrays (from the media layer, via the app) or as
``QImage``s. Only the latest frame is kept and painting is left to Qt's update
coalescing, so a burst of frames costs one paint.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QRectF, QSize, Qt, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget

from widgets import call_style
from widgets.avatar_view import AvatarView


class FitMode(StrEnum):
    """How a frame fills the view."""

    #: Cover the whole view, cropping the frame's edges (tiles).
    FILL = "fill"
    #: Show the whole frame, letterboxed (screen shares, previews).
    FIT = "fit"
    #: Cover the view unless that cuts away more than a quarter of the frame (a
    #: landscape camera in a tall window), then show it whole: call tiles.
    ADAPT = "adapt"


#: The least of a frame ADAPT keeps when it covers the view (the rest is cropped).
MOST_OF_THE_FRAME = 0.75


def frame_to_image(frame: npt.NDArray[np.uint8]) -> QImage:
    """A ``QImage`` owning a copy of an ``H×W×3`` RGB ``uint8`` array."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an H×W×3 uint8 RGB frame, got {frame.shape} {frame.dtype}")
    data = np.ascontiguousarray(frame)
    height, width = data.shape[:2]
    image = QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    # The QImage borrows numpy's buffer; copy so the frame may be reused or freed.
    return image.copy()


class VideoView(QWidget):
    """The latest frame, scaled (fill or fit), optionally mirrored, in a rounded rectangle.

    With no frame it shows an :class:`AvatarView` (initials and sound-wave ring).
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        fit_mode: FitMode = FitMode.FILL,
        radius: float = 14.0,
    ) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._fit_mode = fit_mode
        self._mirrored = False
        self._radius = radius
        self._highlight: QColor | None = None
        self._scrim = 0
        self._border: QColor | None = None
        self._background = QColor(call_style.TILE)
        self.avatar = AvatarView(self)
        self.content_layout = QGridLayout(self)
        self.content_layout.setContentsMargins(8, 8, 8, 8)
        self.content_layout.addWidget(self.avatar, 0, 0)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    @property
    def has_frame(self) -> bool:
        """Whether a frame is shown (else the avatar is)."""
        return self._image is not None

    @property
    def mirrored(self) -> bool:
        """Whether frames are flipped left to right (the local camera, like a mirror)."""
        return self._mirrored

    @property
    def fit_mode(self) -> FitMode:
        """How frames fill the view."""
        return self._fit_mode

    def set_user(self, user_id: str, name: str) -> None:
        """Whose video this is; names the avatar shown without video."""
        self.avatar.set_user(user_id, name)

    @Slot(object)
    def set_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        """Show an ``H×W×3`` RGB frame."""
        self.set_image(frame_to_image(frame))

    @Slot(QImage)
    def set_image(self, image: QImage) -> None:
        """Show ``image`` (not copied: pass an image nobody writes to afterwards)."""
        self._image = image
        self.avatar.hide()
        self.update()

    @Slot()
    def clear(self) -> None:
        """Drop the frame and show the avatar (camera turned off, stream ended)."""
        self._image = None
        self.avatar.show()
        self.update()

    def set_fit_mode(self, mode: FitMode) -> None:
        """Fill (crop), fit (letterbox), or adapt (fill unless that crops too much)."""
        self._fit_mode = mode
        self.update()

    def set_mirrored(self, mirrored: bool) -> None:
        """Flip frames left to right."""
        self._mirrored = mirrored
        self.update()

    def set_radius(self, radius: float) -> None:
        """Corner radius in logical pixels (0 for a full-window view)."""
        self._radius = radius
        self.update()

    def set_scrim(self, alpha: int) -> None:
        """Darken frames by ``alpha`` (0..255) so text laid over them stays readable."""
        self._scrim = max(0, min(255, alpha))
        self.update()

    def set_border(self, color: QColor | str | None) -> None:
        """A thin border when not highlighted (a small view over a big one)."""
        self._border = QColor(color) if color is not None else None
        self.update()

    def set_highlight(self, color: QColor | str | None) -> None:
        """A border in ``color`` (the active speaker), or none."""
        self._highlight = QColor(color) if color is not None else None
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, 240)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(64, 48)

    def _target_rect(self, image: QImage) -> QRectF:
        view = QRectF(self.rect())
        scale_w = view.width() / max(1, image.width())
        scale_h = view.height() / max(1, image.height())
        cover, whole = max(scale_w, scale_h), min(scale_w, scale_h)
        if self._fit_mode is FitMode.FILL:
            scale = cover
        elif self._fit_mode is FitMode.ADAPT:
            # Covering keeps whole/cover of the frame along the cropped side.
            scale = cover if whole >= MOST_OF_THE_FRAME * cover else whole
        else:
            scale = whole
        width, height = image.width() * scale, image.height() * scale
        return QRectF(view.center().x() - width / 2, view.center().y() - height / 2, width, height)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        outline = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        path = QPainterPath()
        path.addRoundedRect(outline, self._radius, self._radius)
        painter.setClipPath(path)
        painter.fillRect(self.rect(), self._background)
        if self._image is not None:
            target = self._target_rect(self._image)
            if self._mirrored:
                painter.save()
                painter.translate(self.width(), 0)
                painter.scale(-1, 1)
                painter.drawImage(target, self._image)
                painter.restore()
            else:
                painter.drawImage(target, self._image)
            if self._scrim:
                painter.fillRect(self.rect(), QColor(0, 0, 0, self._scrim))
        painter.setClipping(False)
        pen = QPen(self._highlight, 3) if self._highlight is not None else None
        if pen is None and self._border is not None:
            pen = QPen(self._border, 1.5)
        if pen is not None:
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(outline.adjusted(1, 1, -1, -1), self._radius, self._radius)
