"""A QR code of a reference drawn as vector squares (no image, no system library)."""

import segno
from fpdf import FPDF


def draw_qr(pdf: FPDF, text: str, *, x: float, y: float, size: float) -> None:
    """Draw `text` as a QR code of `size` mm at (x, y), quiet zone included."""
    code = segno.make(text, error="m", micro=False)
    matrix = code.matrix
    modules = len(matrix) + 8  # four modules of quiet zone each side
    step = size / modules
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        column = 0
        while column < len(cells):
            if not cells[column]:
                column += 1
                continue
            run = column
            while run < len(cells) and cells[run]:
                run += 1
            pdf.rect(
                x + (column + 4) * step, y + (row + 4) * step, (run - column) * step, step, "F"
            )
            column = run
