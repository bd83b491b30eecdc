"""What every printer back-end takes and does: a `Rendered` page (a PDF and a 1-bit raster),
sent by a `Backend` or refused with a `PrinterError`. The back-ends are in `cups` and `escpos`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PIL import Image


@dataclass
class Rendered:
    """One page to print: a PDF for CUPS, and a 1-bit raster for ESC/POS printers."""

    pdf: bytes
    raster: Image.Image


class Backend(Protocol):
    def send(self, page: Rendered) -> None:
        """Print the page or raise PrinterError."""
