"""A QR code of a reference drawn as vector squares (no image, no system library)."""

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF


def draw_qr(pdf: "FPDF", text: str, *, x: float, y: float, size: float) -> None:
    """Draw `text` as a QR code of `size` mm at (x, y), quiet zone included."""
    modules, rectangles = _code(text)
    step = size / (modules + 8)  # four modules of quiet zone each side
    pdf.set_fill_color(0, 0, 0)
    for column, row, width, height in rectangles:
        pdf.rect(x + (column + 4) * step, y + (row + 4) * step, width * step, height * step, "F")


@lru_cache(maxsize=512)
def _code(text: str) -> tuple[int, list[tuple[int, int, int, int]]]:
    """The code's size in modules and its rectangles; kept, as an email's two documents and a
    resend draw the same reference."""
    import segno  # with the first document, as fpdf2 is (see purchase_order)

    # A fixed mask pattern: choosing the best of eight is most of the encoding's cost, and any
    # of them reads the same.
    matrix = segno.make(text, error="m", micro=False, mask=0).matrix
    return len(matrix), _rectangles(matrix)


def _rectangles(matrix: Sequence[Sequence[int]]) -> list[tuple[int, int, int, int]]:
    """The dark modules as few rectangles (column, row, width, height): each row's runs, a run
    carried down while the rows below repeat it exactly."""
    open_runs: dict[tuple[int, int], list[int]] = {}  # (start, end) -> [row, height]
    found: list[tuple[int, int, int, int]] = []
    for row, cells in enumerate([*matrix, []]):
        runs = set()
        column = 0
        while column < len(cells):
            if cells[column]:
                end = column
                while end < len(cells) and cells[end]:
                    end += 1
                runs.add((column, end))
                column = end
            else:
                column += 1
        for key in list(open_runs):
            if key in runs:
                open_runs[key][1] += 1
                runs.discard(key)
            else:
                first, height = open_runs.pop(key)
                found.append((key[0], first, key[1] - key[0], height))
        for key in runs:
            open_runs[key] = [row, 1]
    return found
