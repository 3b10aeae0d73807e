"""The purchase order and the packing slip as PDFs (fpdf2: pure Python, wheels only).

The packing slip is the purchase order without any price, to travel in the parcel. Text is
placed with fpdf2's plain `text` (its cells and multi-cells cost ten times more) and wrapped
here. Text is drawn in the PDF core fonts, which cover Latin-1; other characters print as '?',
never fail.
"""

from decimal import Decimal
from typing import TYPE_CHECKING, cast

from dropwire.documents.data import PurchaseDocument
from dropwire.documents.qr import draw_qr

if TYPE_CHECKING:
    from fpdf.fonts import CoreFont

_MARGIN = 15.0
_QR_SIZE = 30.0
_LINE = 5.0  # mm between lines of 10 pt text
# (heading, width mm, right-aligned) of the line table; the last two only on the purchase order
_COLUMNS = (("SKU", 40.0, False), ("Item", 80.0, False), ("Qty", 15.0, True))
_PRICE_COLUMNS = (("Cost", 20.0, True), ("Total", 25.0, True))


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


class _Sheet:
    """A page cursor over an `FPDF`: lines of text at `y`, wrapped to a width."""

    def __init__(self, title: str) -> None:
        # imported by the first document, not with the module: fpdf2 costs every process that
        # loads the app (each CLI command, each API and worker process) half a second of CPU
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=False)
        self.pdf.set_title(title)
        self.pdf.set_creator("Dropwire")
        self.pdf.add_page()
        self.y = _MARGIN

    def font(self, size: float = 10, style: str = "") -> None:
        self.pdf.set_font("Helvetica", style, size)

    def width_of(self, text: str) -> float:
        """Width in mm of Latin-1 text in the current core font (fpdf2's own measure prepares
        bidirectional text first and costs ten times more)."""
        font = cast("CoreFont", self.pdf.current_font)  # the core fonts only, see above
        widths: dict[str, float] = font.cw  # type: ignore[assignment]  # keyed by character
        return sum(widths.get(char, 500) for char in text) * self.pdf.font_size / 1000

    def wrap(self, text: str, width: float) -> list[str]:
        """`text` in lines no wider than `width` mm (a word longer than that is cut)."""
        lines: list[str] = []
        for paragraph in _latin1(text).splitlines() or [""]:
            line = ""
            for word in paragraph.split(" "):
                candidate = f"{line} {word}" if line else word
                if self.width_of(candidate) <= width:
                    line = candidate
                    continue
                if line:
                    lines.append(line)
                while self.width_of(word) > width and len(word) > 1:
                    cut = len(word)
                    while cut > 1 and self.width_of(word[:cut]) > width:
                        cut -= 1
                    lines.append(word[:cut])
                    word = word[cut:]
                line = word
            lines.append(line)
        return lines

    def put(self, x: float, text: str, *, width: float = 0, right: bool = False) -> None:
        shift = width - self.width_of(text) if right else 0
        self.pdf.text(x + shift, self.y + _LINE * 0.75, text)

    def line_of(self, text: str, *, size: float = 10, bold: bool = False) -> None:
        self.font(size, "B" if bold else "")
        self.put(_MARGIN, _latin1(text))
        self.y += size * 0.5

    def block(self, heading: str, lines: list[str], *, x: float, width: float) -> float:
        """A titled block of lines at (x, y); returns where it ends (y is left unchanged)."""
        top = self.y
        self.font(9, "B")
        self.put(x, _latin1(heading))
        self.y += _LINE
        self.font(10)
        for text in lines or ["-"]:
            for part in self.wrap(text, width - 2):
                self.put(x, part)
                self.y += _LINE
        end, self.y = self.y, top
        return end

    def room_for(self, height: float) -> bool:
        return self.y + height <= self.pdf.h - _MARGIN


def _table_head(sheet: _Sheet, columns: tuple[tuple[str, float, bool], ...]) -> None:
    sheet.pdf.set_fill_color(230, 230, 230)
    sheet.pdf.rect(_MARGIN, sheet.y, sum(width for _, width, _ in columns), _LINE + 2, "F")
    sheet.font(9, "B")
    sheet.y += 1
    x = _MARGIN
    for heading, width, right in columns:
        sheet.put(x + 1, heading, width=width - 2, right=right)
        x += width
    sheet.y += _LINE + 1
    sheet.font(9)


def _render(document: PurchaseDocument, *, prices: bool) -> bytes:
    title = "Purchase order" if prices else "Packing slip"
    sheet = _Sheet(f"{title} {document.reference}")
    pdf = sheet.pdf
    draw_qr(pdf, document.reference, x=pdf.w - _MARGIN - _QR_SIZE, y=_MARGIN - 4, size=_QR_SIZE)
    sheet.line_of(f"{title} {document.reference}", size=16, bold=True)
    if document.status != "open":
        sheet.line_of(document.status.upper(), size=12, bold=True)
    sheet.line_of(f"Order {document.sale_reference}")
    if document.date_ordered:
        sheet.line_of(f"Ordered {document.date_ordered[:10]}")
    if document.shipping_method:
        sheet.line_of(f"Shipping: {document.shipping_method}")
    sheet.y = max(sheet.y, _MARGIN + _QR_SIZE - 4) + 4
    half = (pdf.w - 2 * _MARGIN) / 2
    merchant = [document.merchant_name, *document.merchant_address]
    left = sheet.block("From", merchant, x=_MARGIN, width=half)
    right = sheet.block("Vendor", [document.vendor_name], x=_MARGIN + half, width=half)
    sheet.y = max(left, right) + 3
    left = sheet.block("Ship to", document.ship_to, x=_MARGIN, width=half)
    right = sheet.block("Contact", document.contact, x=_MARGIN + half, width=half)
    sheet.y = max(left, right) + 5

    columns = _COLUMNS + (_PRICE_COLUMNS if prices else ())
    _table_head(sheet, columns)
    for line in document.lines:
        quantity = line.quantity - line.quantity_cancelled
        cells = [line.sku or "", "\n".join([line.name, *line.properties]), str(quantity)]
        if prices:
            cost = line.cost_price
            cells += [_money(cost), _money(None if cost is None else cost * quantity)]
        if line.quantity_cancelled:
            cells[1] += f"\n({line.quantity_cancelled} cancelled)"
        wrapped = [
            sheet.wrap(text, width - 2) for (_, width, _), text in zip(columns, cells, strict=True)
        ]
        height = _LINE * max(len(parts) for parts in wrapped) + 1
        if not sheet.room_for(height):
            pdf.add_page()
            sheet.y = _MARGIN
            _table_head(sheet, columns)
        top = sheet.y
        x = _MARGIN
        for (_, width, right), parts in zip(columns, wrapped, strict=True):
            sheet.y = top
            for part in parts:
                sheet.put(x + 1, part, width=width - 2, right=right)
                sheet.y += _LINE
            x += width
        sheet.y = top + height
        pdf.set_draw_color(220, 220, 220)
        pdf.line(_MARGIN, sheet.y - 0.5, _MARGIN + x - _MARGIN, sheet.y - 0.5)
    if prices:
        sheet.y += 2
        sheet.font(10, "B")
        total = f"Total cost {_money(document.total_cost) or '-'}"
        sheet.put(_MARGIN, total, width=sum(width for _, width, _ in columns), right=True)
    return bytes(pdf.output())


def purchase_order_pdf(document: PurchaseDocument) -> bytes:
    return _render(document, prices=True)


def packing_slip_pdf(document: PurchaseDocument) -> bytes:
    return _render(document, prices=False)
