"""The built-in email of every event, with the sample a template is checked against on save.

Adding an email is one entry in `DEFAULTS`: its event name, the built-in subject, HTML (CSS
inlined, as mail clients drop style sheets) and plain text, and a sample of the context it is
rendered with. A merchant's edit is refused when it fails to render the sample, so the real
context must have the sample's shape.
"""

from dataclasses import dataclass
from typing import Any

PURCHASE_CREATED = "purchase.created"
PURCHASE_UPDATED = "purchase.updated"
PURCHASE_CANCELLED = "purchase.cancelled"
INVITATION = "user.invitation"
ADMIN_INVITATION = "user.admin_invitation"
PASSWORD_RESET = "user.password_reset"
INVOICE_CREATED = "invoice.created"
PAYMENT_COMPLETED = "payment.completed"
PAYMENT_FAILED = "payment.failed"


@dataclass(frozen=True)
class DefaultTemplate:
    event: str
    description: str
    subject: str
    html: str
    text: str
    sample: dict[str, Any]


_BOX = "font-family:Helvetica,Arial,sans-serif;color:#1f2933;max-width:640px"
_BUTTON = (
    "display:inline-block;padding:10px 18px;background:#1d4ed8;color:#ffffff;"
    "text-decoration:none;border-radius:4px"
)
_CELL = "padding:6px 8px;border-bottom:1px solid #e4e7eb;text-align:left"

_PURCHASE_HTML = (
    f'<div style="{_BOX}">'
    '<h1 style="font-size:20px">{{ heading }} {{ purchase.reference }}</h1>'
    "<p>Hello {{ vendor.name }},</p>"
    "<p>{{ intro }}</p>"
    '<table style="border-collapse:collapse;width:100%">'
    f'<tr><th style="{_CELL}">SKU</th><th style="{_CELL}">Item</th>'
    f'<th style="{_CELL}">Quantity</th></tr>'
    "{% for line in purchase.lines %}"
    f'<tr><td style="{_CELL}">{{{{ line.sku }}}}</td><td style="{_CELL}">{{{{ line.name }}}}</td>'
    f'<td style="{_CELL}">{{{{ line.quantity }}}}</td></tr>'
    "{% endfor %}</table>"
    '<p style="margin-top:16px"><strong>Ship to</strong><br>'
    "{% for line in purchase.shipTo %}{{ line }}<br>{% endfor %}</p>"
    "<p>The purchase order and its packing slip are attached.</p>"
    f'<p><a href="{{{{ links.purchase }}}}" style="{_BUTTON}">Open it in the vendor portal</a></p>'
    '<p style="color:#616e7c;font-size:12px">{{ merchant.name }}</p>'
    "</div>"
)
_PURCHASE_TEXT = (
    "{{ heading }} {{ purchase.reference }}\n\n"
    "Hello {{ vendor.name }},\n\n{{ intro }}\n\n"
    "{% for line in purchase.lines %}- {{ line.quantity }} x {{ line.name }}"
    "{% if line.sku %} ({{ line.sku }}){% endif %}\n{% endfor %}\n"
    "Ship to:\n{% for line in purchase.shipTo %}  {{ line }}\n{% endfor %}\n"
    "The purchase order and its packing slip are attached.\n"
    "Vendor portal: {{ links.purchase }}\n\n{{ merchant.name }}\n"
)
_PURCHASE_SAMPLE: dict[str, Any] = {
    "merchant": {"name": "Example Store", "address": ["1 Market Street", "Springfield"]},
    "vendor": {"name": "Example Vendor"},
    "purchase": {
        "reference": "10001-01",
        "saleReference": "10001",
        "dateOrdered": "2026-01-31",
        "status": "open",
        "shippingMethod": "Standard",
        "shipTo": ["Ada Lovelace", "12 Analytical Row", "London", "GB"],
        "lines": [{"sku": "MUG-1", "name": "Mug", "quantity": 2, "costPrice": "4.50"}],
    },
    "links": {"purchase": "https://dropwire.example.com/vendor/purchases/1"},
}


def _purchase(
    event: str, description: str, subject: str, heading: str, intro: str
) -> DefaultTemplate:
    # heading and intro are the template's own words, set here so each event reads its part
    html = _PURCHASE_HTML.replace("{{ heading }}", heading).replace("{{ intro }}", intro)
    text = _PURCHASE_TEXT.replace("{{ heading }}", heading).replace("{{ intro }}", intro)
    return DefaultTemplate(event, description, subject, html, text, _PURCHASE_SAMPLE)


_PERSON_HTML = (
    f'<div style="{_BOX}">'
    '<h1 style="font-size:20px">{heading}</h1>'
    "<p>Hello,</p><p>{intro}</p>"
    '<p><a href="{{{{ link }}}}" style="' + _BUTTON + '">{button}</a></p>'
    '<p style="color:#616e7c;font-size:12px">The link works once and expires in '
    "{{{{ expiresHours }}}} hours. If you did not expect this email, ignore it.</p>"
    '<p style="color:#616e7c;font-size:12px">{{{{ merchant.name }}}}</p>'
    "</div>"
)
_PERSON_TEXT = (
    "{heading}\n\nHello,\n\n{intro}\n\n{button}: {{{{ link }}}}\n\n"
    "The link works once and expires in {{{{ expiresHours }}}} hours. "
    "If you did not expect this email, ignore it.\n\n{{{{ merchant.name }}}}\n"
)


def _person(
    event: str, description: str, subject: str, sample: dict[str, Any], **words: str
) -> DefaultTemplate:
    return DefaultTemplate(
        event,
        description,
        subject,
        _PERSON_HTML.format(**words),
        _PERSON_TEXT.format(**words),
        sample,
    )


_NOTICE_HTML = (
    f'<div style="{_BOX}">'
    '<h1 style="font-size:20px">{heading}</h1>'
    "<p>Hello {{{{ vendor.name }}}},</p><p>{intro}</p>"
    '<table style="border-collapse:collapse">{rows}</table>'
    '<p><a href="{{{{ links.portal }}}}" style="' + _BUTTON + '">Open the vendor portal</a></p>'
    '<p style="color:#616e7c;font-size:12px">{{{{ merchant.name }}}}</p>'
    "</div>"
)
_NOTICE_TEXT = (
    "{heading}\n\nHello {{{{ vendor.name }}}},\n\n{intro}\n\n{rows}\n"
    "Vendor portal: {{{{ links.portal }}}}\n\n{{{{ merchant.name }}}}\n"
)
_NOTICE_SAMPLE_BASE: dict[str, Any] = {
    "merchant": {"name": "Example Store"},
    "vendor": {"name": "Example Vendor"},
    "links": {"portal": "https://dropwire.example.com/vendor"},
}
_INVOICE_SAMPLE = _NOTICE_SAMPLE_BASE | {
    "invoice": {
        "reference": "INV-10001-01",
        "type": "invoice",
        "currency": "USD",
        "net": "45.00",
        "commission": "4.50",
        "shipping": "5.00",
        "payable": "45.50",
        "issuedAt": "2026-01-31",
        "payableAt": "2026-03-02",
    }
}
_PAYMENT_SAMPLE = _NOTICE_SAMPLE_BASE | {
    "payment": {
        "amount": "45.50",
        "currency": "USD",
        "reference": "PAY-1",
        "date": "2026-03-02",
        "invoices": ["INV-10001-01"],
    }
}


def _notice(
    event: str,
    description: str,
    subject: str,
    sample: dict[str, Any],
    rows: list[tuple[str, str]],
    **words: str,
) -> DefaultTemplate:
    """A money notice: a heading, a sentence and a few labelled values."""
    html_rows = "".join(
        f'<tr><th style="{_CELL}">{label}</th><td style="{_CELL}">{value}</td></tr>'
        for label, value in rows
    )
    text_rows = "".join(f"{label}: {value}\n" for label, value in rows)
    return DefaultTemplate(
        event,
        description,
        subject,
        _NOTICE_HTML.format(rows=html_rows, **words),
        _NOTICE_TEXT.format(rows=text_rows, **words),
        sample,
    )


DEFAULTS: tuple[DefaultTemplate, ...] = (
    _purchase(
        PURCHASE_CREATED,
        "A new purchase order, to a vendor that receives them by email",
        "Purchase order {{ purchase.reference }} from {{ merchant.name }}",
        "Purchase order",
        "You have a new purchase order from {{ merchant.name }}. Please ship these items:",
    ),
    _purchase(
        PURCHASE_UPDATED,
        "A purchase order changed (lines or quantities)",
        "Purchase order {{ purchase.reference }} changed",
        "Changed purchase order",
        "Purchase order {{ purchase.reference }} from {{ merchant.name }} changed. It now reads:",
    ),
    _purchase(
        PURCHASE_CANCELLED,
        "A purchase order was cancelled",
        "Purchase order {{ purchase.reference }} cancelled",
        "Cancelled purchase order",
        "Purchase order {{ purchase.reference }} from {{ merchant.name }} was cancelled. "
        "Please do not ship what is left of it:",
    ),
    _person(
        INVITATION,
        "An invitation for a vendor's person to set a password and use the vendor portal",
        "You are invited to {{ merchant.name }}'s vendor portal",
        {
            "merchant": {"name": "Example Store"},
            "vendor": {"name": "Example Vendor"},
            "person": {"email": "ada@vendor.example"},
            "link": "https://dropwire.example.com/password/set?token=sample",
            "expiresHours": 72,
        },
        heading="Your vendor portal invitation",
        intro="{{ merchant.name }} invites you to the vendor portal of {{ vendor.name }}, "
        "where you see and ship your purchase orders. Choose a password to start:",
        button="Set your password",
    ),
    _person(
        ADMIN_INVITATION,
        "An invitation for a person to set a password and run the dashboard as an admin",
        "You are invited to run {{ merchant.name }}'s Dropwire dashboard",
        {
            "merchant": {"name": "Example Store"},
            "person": {"email": "ada@store.example"},
            "link": "https://dropwire.example.com/password/set?token=sample",
            "expiresHours": 72,
        },
        heading="Your dashboard invitation",
        intro="{{ merchant.name }} invites you to its Dropwire dashboard as an admin: vendors, "
        "feeds, channels, orders and payouts. Choose a password to start:",
        button="Set your password",
    ),
    _person(
        PASSWORD_RESET,
        "A link to choose a new password, sent on request",
        "Reset your password for {{ merchant.name }}",
        {
            "merchant": {"name": "Example Store"},
            "person": {"email": "ada@vendor.example"},
            "link": "https://dropwire.example.com/password/set?token=sample",
            "expiresHours": 2,
        },
        heading="Reset your password",
        intro="Someone (we hope you) asked to reset the password of {{ person.email }}.",
        button="Choose a new password",
    ),
    _notice(
        INVOICE_CREATED,
        "An invoice (or credit note) was raised for what a vendor shipped (or took back)",
        "{% if invoice.type == 'credit' %}Credit note{% else %}Invoice{% endif %} "
        "{{ invoice.reference }} from {{ merchant.name }}",
        _INVOICE_SAMPLE,
        [
            ("Reference", "{{ invoice.reference }}"),
            ("Issued", "{{ invoice.issuedAt }}"),
            ("Net", "{{ invoice.net }} {{ invoice.currency }}"),
            ("Commission", "{{ invoice.commission }} {{ invoice.currency }}"),
            ("Shipping", "{{ invoice.shipping }} {{ invoice.currency }}"),
            ("Payable to you", "{{ invoice.payable }} {{ invoice.currency }}"),
            ("Payable from", "{{ invoice.payableAt }}"),
        ],
        heading="{% if invoice.type == 'credit' %}Credit note{% else %}Invoice{% endif %}",
        intro="{{ merchant.name }} recorded "
        "{% if invoice.type == 'credit' %}a credit note{% else %}an invoice{% endif %} "
        "for your account:",
    ),
    _notice(
        PAYMENT_COMPLETED,
        "A payment to a vendor went through",
        "Payment of {{ payment.amount }} {{ payment.currency }} from {{ merchant.name }}",
        _PAYMENT_SAMPLE,
        [
            ("Amount", "{{ payment.amount }} {{ payment.currency }}"),
            ("Date", "{{ payment.date }}"),
            ("Reference", "{{ payment.reference or '-' }}"),
            ("Invoices", "{{ payment.invoices | join(', ') }}"),
        ],
        heading="Payment sent",
        intro="{{ merchant.name }} paid you:",
    ),
    _notice(
        PAYMENT_FAILED,
        "A payment to a vendor failed",
        "A payment from {{ merchant.name }} did not go through",
        _PAYMENT_SAMPLE,
        [
            ("Amount", "{{ payment.amount }} {{ payment.currency }}"),
            ("Date", "{{ payment.date }}"),
            ("Invoices", "{{ payment.invoices | join(', ') }}"),
        ],
        heading="Payment failed",
        intro="A payment from {{ merchant.name }} to you did not go through. The invoices it "
        "covered are open again; please check the payment details {{ merchant.name }} has "
        "for you.",
    ),
)

BY_EVENT: dict[str, DefaultTemplate] = {template.event: template for template in DEFAULTS}
