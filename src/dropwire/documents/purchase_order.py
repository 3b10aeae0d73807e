"""The purchase order and the packing slip as PDFs (fpdf2: pure Python, wheels only).

The packing slip is the purchase order without any price, to travel in the parcel. Text is
drawn in the PDF core fonts, which cover Latin-1; other characters print as '?', never fail.
"""

from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from dropwire.documents.data import PurchaseDocument
from dropwire.documents.qr import draw_qr

_MARGIN = 15.0
_QR_SIZE = 30.0
# (heading, width mm, align) of the line table; the last two only on the purchase order
_COLUMNS = (("SKU", 40.0, "L"), ("Item", 80.0, "L"), ("Qty", 15.0, "R"))
_PRICE_COLUMNS = (("Cost", 20.0, "R"), ("Total", 25.0, "R"))


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


class _Page(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.set_margins(_MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN)
        self.set_title(title)
        self.set_creator("Dropwire")
        self.add_page()

    def line_of(
        self, text: str, *, size: float = 10, bold: bool = False, height: float = 5
    ) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.cell(0, height, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def block(self, heading: str, lines: list[str], *, x: float, y: float, width: float) -> float:
        """A titled block of lines at (x, y); returns where it ends."""
        self.set_xy(x, y)
        self.set_font("Helvetica", "B", 9)
        self.cell(width, 5, _latin1(heading), new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_font("Helvetica", "", 10)
        for text in lines or ["-"]:
            self.cell(width, 5, _latin1(text), new_x=XPos.LEFT, new_y=YPos.NEXT)
        return self.get_y()


def _lines_of(pdf: FPDF, width: float, text: str) -> int:
    lines = pdf.multi_cell(width, 5, _latin1(text), dry_run=True, output=MethodReturnValue.LINES)
    assert isinstance(lines, list)
    return max(1, len(lines))


def _render(document: PurchaseDocument, *, prices: bool) -> bytes:
    title = "Purchase order" if prices else "Packing slip"
    pdf = _Page(f"{title} {document.reference}")
    draw_qr(pdf, document.reference, x=pdf.w - _MARGIN - _QR_SIZE, y=_MARGIN - 4, size=_QR_SIZE)
    pdf.line_of(f"{title} {document.reference}", size=16, bold=True, height=8)
    if document.status != "open":
        pdf.line_of(document.status.upper(), size=12, bold=True, height=6)
    pdf.line_of(f"Order {document.sale_reference}")
    if document.date_ordered:
        pdf.line_of(f"Ordered {document.date_ordered[:10]}")
    if document.shipping_method:
        pdf.line_of(f"Shipping: {document.shipping_method}")
    top = max(pdf.get_y(), _MARGIN + _QR_SIZE) + 4
    half = (pdf.w - 2 * _MARGIN) / 2
    merchant = [document.merchant_name, *document.merchant_address]
    left = pdf.block("From", merchant, x=_MARGIN, y=top, width=half)
    right = pdf.block("Vendor", [document.vendor_name], x=_MARGIN + half, y=top, width=half)
    top = max(left, right) + 4
    left = pdf.block("Ship to", document.ship_to, x=_MARGIN, y=top, width=half)
    right = pdf.block("Contact", document.contact, x=_MARGIN + half, y=top, width=half)
    pdf.set_xy(_MARGIN, max(left, right) + 6)

    columns = _COLUMNS + (_PRICE_COLUMNS if prices else ())
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_fill_color(230, 230, 230)
    for heading, width, align in columns:
        pdf.cell(width, 7, heading, border="B", align=align, fill=True)
    pdf.ln(7)
    pdf.set_font("Helvetica", "", 9)
    for line in document.lines:
        quantity = line.quantity - line.quantity_cancelled
        name = line.name + ("".join(f"\n  {p}" for p in line.properties))
        cells = [line.sku or "", name, str(quantity)]
        if prices:
            cost = line.cost_price
            cells += [_money(cost), _money(None if cost is None else cost * quantity)]
        heights = 5 * max(
            _lines_of(pdf, width, text) for (_, width, _), text in zip(columns, cells, strict=True)
        )
        if pdf.will_page_break(heights):
            pdf.add_page()
        y = pdf.get_y()
        x = _MARGIN
        for (_, width, align), text in zip(columns, cells, strict=True):
            pdf.set_xy(x, y)
            pdf.multi_cell(width, 5, _latin1(text), align=align)
            x += width
        pdf.set_xy(_MARGIN, y + heights)
        if line.quantity_cancelled:
            pdf.set_font("Helvetica", "I", 8)
            pdf.cell(
                0, 4, f"  {line.quantity_cancelled} cancelled", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            pdf.set_font("Helvetica", "", 9)
    if prices:
        pdf.set_font("Helvetica", "B", 10)
        total = document.total_cost
        pdf.cell(
            0,
            8,
            f"Total cost {_money(total) or '-'}",
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    return bytes(pdf.output())


def purchase_order_pdf(document: PurchaseDocument) -> bytes:
    return _render(document, prices=True)


def packing_slip_pdf(document: PurchaseDocument) -> bytes:
    return _render(document, prices=False)
